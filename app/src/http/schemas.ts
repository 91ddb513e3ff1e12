// Request and response shapes of the REST API. The same zod schemas validate requests and
// produce the OpenAPI document (openapi.ts), so the two cannot drift apart.
import { z } from "zod";
import { clientMsgId, messageBody, storedText } from "../domain/validation.js";

const id = z.uuid().meta({ description: "UUID" });
const timestamp = z.iso.datetime({ offset: true }).meta({ description: "ISO-8601 timestamp" });

export const createClientBody = z.object({
  name: storedText(1, 200, { trim: true }),
  email: z.email().max(320),
  is_admin: z.boolean().optional(),
});

export const createUserBody = z.object({
  external_id: storedText(1, 200),
  display_name: storedText(1, 200, { trim: true }),
  email: z.email().max(320).optional(),
});

export const tokenBody = z.object({ user_id: z.uuid() });
export const refreshBody = z.object({ refresh_token: z.string().min(1).max(512) });

export const createRoomBody = z.object({
  name: storedText(1, 200, { trim: true }),
  member_ids: z.array(z.uuid()).max(1000).optional(),
});

export const addMemberBody = z.object({ user_id: z.uuid() });

export const sendMessageBody = z.object({ body: messageBody, client_msg_id: clientMsgId.optional() });

const seqParam = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const MAX_PAGE = 200;
export const historyQuery = z
  .object({
    after_seq: seqParam.optional(),
    before_seq: seqParam.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
  })
  .refine((q) => q.after_seq === undefined || q.before_seq === undefined, {
    message: "give after_seq or before_seq, not both",
    path: ["before_seq"],
  });

export const client = z.object({
  id,
  name: z.string(),
  email: z.string(),
  is_admin: z.boolean(),
  created_at: timestamp,
});
export const createdClient = client.extend({
  api_key: z.string().meta({ description: "Shown once; only a hash is stored" }),
});
// API.md shows a wrapper only for messages; client and room lists are plain JSON arrays.
export const clientList = z.array(client);

export const user = z.object({
  id,
  external_id: z.string(),
  display_name: z.string(),
  email: z.string().nullable(),
  created_at: timestamp,
});

export const tokenPair = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal("bearer"),
  expires_in: z.number().int().meta({ description: "Access token lifetime in seconds" }),
});

export const room = z.object({
  id,
  name: z.string(),
  created_at: timestamp,
  last_seq: z.number().int().meta({ description: "seq of the room's newest message (0 when empty)" }),
  member_ids: z.array(id),
});
export const roomList = z.array(room);

export const message = z.object({
  id,
  room_id: id,
  seq: z.number().int().min(1),
  sender_id: id,
  body: z.string(),
  client_msg_id: z.string().nullable(),
  created_at: timestamp,
});
export const messageList = z.object({ messages: z.array(message) });

export const errorEnvelope = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

export const health = z.object({ status: z.literal("healthy"), timestamp, version: z.string() });
export const readiness = z.object({
  status: z.enum(["ready", "unavailable"]),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});
