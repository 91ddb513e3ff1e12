// Frames are serialised once per message and the same bytes go to every recipient; the fan-out
// payload carries the seq in a small text header so receivers never parse the JSON.
import * as ws from "ws";
import type { Message } from "../domain/messages.js";

const TEXT_FRAME = { fin: true, opcode: 0x01, mask: false, readOnly: true, rsv1: false } as const;
// ws exports its Sender (wrapper.mjs) but @types/ws does not declare it.
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: typeof TEXT_FRAME): Buffer[] };
};

/**
 * One message frame on its way to every local subscriber. Server frames are never masked, so
 * the WebSocket encoding (header + payload) is the same bytes for each recipient: it is built
 * once, by ws's own framing code, and each connection writes it as is.
 */
export class SharedFrame {
  private wireBytes: Buffer | undefined;

  constructor(readonly payload: Buffer) {}

  /** The complete unmasked text frame. */
  get wire(): Buffer {
    this.wireBytes ??= Buffer.concat(Sender.frame(this.payload, TEXT_FRAME));
    return this.wireBytes;
  }

  toString(): string {
    return this.payload.toString("utf8");
  }
}

export interface EncodedMessage {
  roomId: string;
  seq: number;
  /** `{"type":"message","message":{...}}` as UTF-8, shared by all recipients. */
  frame: Buffer;
  /** The message object's JSON, reused for the sender's ack. */
  json: string;
}

export function encodeMessage(message: Message): EncodedMessage {
  const json = JSON.stringify(message);
  return {
    roomId: message.room_id,
    seq: message.seq,
    frame: Buffer.from(`{"type":"message","message":${json}}`),
    json,
  };
}

export function ackFrame(clientMsgId: string | null, messageJson: string): string {
  return `{"type":"ack","client_msg_id":${JSON.stringify(clientMsgId)},"message":${messageJson}}`;
}

// Fan-out payloads: "M<seq> <frame>" for a message, "K<userId>" when a member was removed.
const MESSAGE = 0x4d; // "M"
const KICK = 0x4b; // "K"
const SPACE = 0x20;

export function messagePayload(seq: number, frame: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`M${seq} `, "latin1"), frame]);
}

export function kickPayload(userId: string): Buffer {
  return Buffer.from(`K${userId}`, "latin1");
}

export type Payload =
  { kind: "message"; seq: number; frame: Buffer } | { kind: "kick"; userId: string } | { kind: "unknown" };

export function decodePayload(payload: Buffer): Payload {
  if (payload[0] === MESSAGE) {
    const space = payload.indexOf(SPACE, 1);
    const seq = Number(payload.toString("latin1", 1, space));
    if (space > 1 && Number.isSafeInteger(seq) && seq > 0) {
      return { kind: "message", seq, frame: payload.subarray(space + 1) };
    }
  } else if (payload[0] === KICK) {
    return { kind: "kick", userId: payload.toString("latin1", 1) };
  }
  return { kind: "unknown" };
}
