// Client → server WebSocket frames (API.md). Anything else gets an `error` frame.
import { z } from "zod";
import { clientMsgId, fieldErrors, messageBody, seq, uuid } from "../domain/validation.js";

const ref = z.string().max(200).optional();

export const clientFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("subscribe"), room_id: uuid, after_seq: seq.optional(), ref }),
  z.object({ type: z.literal("unsubscribe"), room_id: uuid, ref }),
  z.object({ type: z.literal("send"), room_id: uuid, body: messageBody, client_msg_id: clientMsgId, ref }),
  z.object({ type: z.literal("ping"), ref }),
]);

export type ClientFrame = z.infer<typeof clientFrame>;

export const FRAME_TYPES = ["subscribe", "unsubscribe", "send", "ping"] as const;

export type FrameResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: string; message: string; ref?: string | undefined; details?: unknown };

export function parseClientFrame(text: string): FrameResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: "invalid_json", message: "the frame is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, code: "invalid_frame", message: "a frame must be a JSON object with a type" };
  }
  const record = value as Record<string, unknown>;
  const refValue =
    typeof record.ref === "string"
      ? record.ref.slice(0, 200)
      : typeof record.client_msg_id === "string"
        ? record.client_msg_id.slice(0, 200)
        : undefined;
  if (typeof record.type !== "string" || !(FRAME_TYPES as readonly string[]).includes(record.type)) {
    return {
      ok: false,
      code: "unknown_type",
      message: `unknown frame type ${JSON.stringify(record.type ?? null)}; expected one of ${FRAME_TYPES.join(", ")}`,
      ref: refValue,
    };
  }
  const parsed = clientFrame.safeParse(value);
  if (!parsed.success) {
    const details = fieldErrors(parsed.error);
    return {
      ok: false,
      code: "invalid_frame",
      message: `invalid ${record.type} frame: ${details.map((d) => `${d.field} ${d.message}`).join("; ")}`,
      ref: refValue,
      details,
    };
  }
  return { ok: true, frame: parsed.data };
}

export function errorFrame(code: string, message: string, ref?: string, details?: unknown): string {
  return JSON.stringify({
    type: "error",
    code,
    message,
    ...(ref !== undefined ? { ref } : {}),
    ...(details !== undefined ? { details } : {}),
  });
}
