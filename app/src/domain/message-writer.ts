// Batched message writes. Every message of a room bumps the same rooms.last_seq row, so writes
// to one room serialise on that row lock for the duration of a commit (an fsync). To keep one
// busy room fast, sends to a room that arrive while its previous write is in flight are written
// together: one statement, one counter bump by n, one commit. An idle room pays no extra wait:
// a lone send is written at once.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Actor } from "./rooms.js";
import { OUTBOX_MESSAGE_POSTED, sendMessage, type Message } from "./messages.js";

export interface SendResult {
  message: Message;
  created: boolean;
}

interface Pending {
  id: string;
  actor: Actor;
  body: string;
  clientMsgId: string | undefined;
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

const COLUMNS = "id, room_id, seq, sender_id, body, client_msg_id, created_at";

// Only members' messages whose client_msg_id is new are inserted; seqs follow the input order.
// Message ids come from the caller so each returned row maps back to its request. The batch's
// outbox row (one per batch) commits with it, in the same statement.
const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) WITH ORDINALITY AS i(id, sender_id, body, client_msg_id, ord)
), valid AS (
  SELECT i.*, row_number() OVER (ORDER BY i.ord) AS n FROM input i
   WHERE EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = $1 AND m.user_id = i.sender_id)
     AND (i.client_msg_id IS NULL OR NOT EXISTS (
          SELECT 1 FROM messages x WHERE x.room_id = $1 AND x.sender_id = i.sender_id AND x.client_msg_id = i.client_msg_id))
), counted AS (
  SELECT count(*) AS total FROM valid
), r AS (
  UPDATE rooms SET last_seq = last_seq + counted.total FROM counted
   WHERE rooms.id = $1 AND counted.total > 0
  RETURNING rooms.last_seq, counted.total
), inserted AS (
  INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id)
  SELECT v.id, $1, r.last_seq - r.total + v.n, v.sender_id, v.body, v.client_msg_id
    FROM valid v CROSS JOIN r
   ORDER BY v.n
  RETURNING ${COLUMNS}
), ${OUTBOX_MESSAGE_POSTED}
SELECT ${COLUMNS} FROM inserted`;

export class MessageWriter {
  private readonly queues = new Map<string, Pending[]>();
  private readonly writing = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly maxBatch = 200,
  ) {}

  send(actor: Actor, roomId: string, body: string, clientMsgId: string | undefined): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const queue = this.queues.get(roomId) ?? [];
      queue.push({ id: randomUUID(), actor, body, clientMsgId, resolve, reject });
      this.queues.set(roomId, queue);
      if (!this.writing.has(roomId)) void this.drain(roomId);
    });
  }

  private async drain(roomId: string): Promise<void> {
    this.writing.add(roomId);
    try {
      for (;;) {
        const queue = this.queues.get(roomId);
        if (!queue || queue.length === 0) break;
        const batch = queue.splice(0, this.maxBatch);
        if (queue.length === 0) this.queues.delete(roomId);
        await this.write(roomId, batch);
      }
    } finally {
      this.writing.delete(roomId);
      // Something may have been queued between the last check and now.
      if (this.queues.get(roomId)?.length) void this.drain(roomId);
    }
  }

  private async write(roomId: string, batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.writeOne(roomId, batch[0]!);
    // The same (sender, client_msg_id) twice in one batch: the first is written, the rest
    // answer with its stored message afterwards.
    const seen = new Map<string, Pending>();
    const unique: Pending[] = [];
    const repeats: Pending[] = [];
    for (const p of batch) {
      const key = p.clientMsgId === undefined ? undefined : `${p.actor.userId}\n${p.clientMsgId}`;
      if (key !== undefined && seen.has(key)) repeats.push(p);
      else {
        if (key !== undefined) seen.set(key, p);
        unique.push(p);
      }
    }
    let rows: Message[];
    try {
      ({ rows } = await this.pool.query<Message>({
        name: "insert_message_batch",
        text: INSERT_BATCH,
        values: [
          roomId,
          unique.map((p) => p.id),
          unique.map((p) => p.actor.userId),
          unique.map((p) => p.body),
          unique.map((p) => p.clientMsgId ?? null),
        ],
      }));
    } catch {
      // A concurrent duplicate (unique violation) or another failure: settle one by one.
      for (const p of [...unique, ...repeats]) await this.writeOne(roomId, p);
      return;
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const p of unique) {
      const row = byId.get(p.id);
      // Not inserted: not a member (404) or a client_msg_id already stored (200): the single path says which.
      if (row) p.resolve({ message: row, created: true });
      else await this.writeOne(roomId, p);
    }
    for (const p of repeats) await this.writeOne(roomId, p);
  }

  private async writeOne(roomId: string, p: Pending): Promise<void> {
    try {
      p.resolve(await sendMessage(this.pool, p.actor, roomId, p.body, p.clientMsgId));
    } catch (error) {
      p.reject(error);
    }
  }
}
