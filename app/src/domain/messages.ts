// Messages: per-room gapless seq, idempotent by (room, sender, client_msg_id), paginated history.
import type pg from "pg";
import { isUniqueViolation } from "../db/pool.js";
import type { Actor } from "./rooms.js";
import { memberLastSeq } from "./rooms.js";
import { notFound } from "./errors.js";

export interface Message {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  body: string;
  client_msg_id: string | null;
  created_at: Date;
}

const COLUMNS = "id, room_id, seq, sender_id, body, client_msg_id, created_at";

/**
 * CTE fragment for a statement whose `inserted` CTE returns new messages: writes one outbox row
 * per room (job `message.posted`) that makes the workers send notifications, atomically with the
 * messages and without another round trip.
 */
export const OUTBOX_MESSAGE_POSTED = `outboxed AS (
  INSERT INTO outbox (type, payload)
  SELECT 'message.posted', jsonb_build_object('room_id', room_id::text, 'from_seq', min(seq), 'to_seq', max(seq))
    FROM inserted GROUP BY room_id
)`;

// One statement: bump the room counter (only if the sender is a member) and insert with the
// new value. The room row lock lasts only for this statement, so seq is gapless and commits
// in seq order; a duplicate client_msg_id aborts the whole statement, counter bump included.
const INSERT_MESSAGE = `
WITH r AS (
  UPDATE rooms SET last_seq = last_seq + 1
   WHERE id = $1 AND client_id = $5
     AND EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = $1 AND m.user_id = $2)
  RETURNING last_seq
), inserted AS (
  INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id)
  SELECT COALESCE($6::uuid, gen_random_uuid()), $1, r.last_seq, $2, $3, $4 FROM r
  RETURNING ${COLUMNS}
), ${OUTBOX_MESSAGE_POSTED}
SELECT ${COLUMNS} FROM inserted`;

/**
 * Writes one message. `messageId` (optional) fixes its id: a caller that retries a write whose
 * outcome it does not know (the connection died around COMMIT) passes the id of the first
 * attempt, so the primary key makes a second copy impossible, with or without client_msg_id.
 */
export async function sendMessage(
  pool: pg.Pool,
  actor: Actor,
  roomId: string,
  body: string,
  clientMsgId: string | undefined,
  messageId?: string,
): Promise<{ message: Message; created: boolean }> {
  try {
    const { rows } = await pool.query<Message>({
      name: "insert_message",
      text: INSERT_MESSAGE,
      values: [roomId, actor.userId, body, clientMsgId ?? null, actor.clientId, messageId ?? null],
    });
    if (!rows[0]) throw notFound("room");
    return { message: rows[0], created: true };
  } catch (error) {
    if (messageId !== undefined && isUniqueViolation(error)) {
      // The first attempt did commit: this request created that message (nobody published it yet).
      const { rows } = await pool.query<Message>(`SELECT ${COLUMNS} FROM messages WHERE id = $1`, [
        messageId,
      ]);
      if (rows[0]) return { message: rows[0], created: true };
    }
    if (clientMsgId === undefined || !isUniqueViolation(error, "messages_client_msg_id_key")) throw error;
    const { rows } = await pool.query<Message>(
      `SELECT ${COLUMNS} FROM messages WHERE room_id = $1 AND sender_id = $2 AND client_msg_id = $3`,
      [roomId, actor.userId, clientMsgId],
    );
    if (!rows[0]) throw error;
    return { message: rows[0], created: false };
  }
}

export type HistoryQuery = { afterSeq: number; limit: number } | { beforeSeq: number; limit: number };

// History reads check membership in the same statement (an uncorrelated EXISTS, evaluated once),
// so a page costs one round trip; only an empty page needs a second look to tell "not a
// member" (404) from "nothing there".
const MEMBER = `EXISTS (SELECT 1 FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = $4
                 WHERE r.id = $1 AND r.client_id = $5)`;

// A history page is turned into JSON by PostgreSQL: the server sends the text it gets as is,
// with no row parsing, no Date objects and no JSON.stringify per message on the request path.
// created_at has the form JSON.stringify gives a Date (UTC, milliseconds truncated, "Z").
const PAGE_JSON = (direction: "ASC" | "DESC") => `
SELECT json_agg(page ORDER BY page.seq ${direction}) AS messages FROM (
  SELECT id, room_id, seq, sender_id, body, client_msg_id,
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
    FROM messages
   WHERE room_id = $1 AND seq ${direction === "ASC" ? ">" : "<"} $2 AND ${MEMBER}
   ORDER BY seq ${direction} LIMIT $3) page`;

/** One page of history as a JSON array (ascending after a seq, descending before one). */
export async function historyPageJson(
  pool: pg.Pool,
  actor: Actor,
  roomId: string,
  query: HistoryQuery,
): Promise<string> {
  const after = "afterSeq" in query;
  const { rows } = await pool.query<{ messages: string | null }>({
    name: after ? "history_after_json" : "history_before_json",
    text: PAGE_JSON(after ? "ASC" : "DESC"),
    values: [roomId, after ? query.afterSeq : query.beforeSeq, query.limit, actor.userId, actor.clientId],
    // The JSON text as PostgreSQL wrote it, not parsed into objects.
    types: { getTypeParser: () => (value: string) => value },
  });
  const page = rows[0]?.messages ?? null;
  if (page === null && (await memberLastSeq(pool, actor, roomId)) === undefined) throw notFound("room");
  return page ?? "[]";
}

/** Messages with seq > afterSeq (and <= upTo when given), ascending. Used by history and replay. */
export async function messagesAfter(
  pool: pg.Pool,
  roomId: string,
  afterSeq: number,
  limit: number,
  upTo: number = Number.MAX_SAFE_INTEGER,
): Promise<Message[]> {
  const { rows } = await pool.query<Message>({
    name: "messages_after",
    text: `SELECT ${COLUMNS} FROM messages WHERE room_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
    values: [roomId, afterSeq, upTo, limit],
  });
  return rows;
}
