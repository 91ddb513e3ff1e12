// Batched message writes: group commit across rooms.
//
// Every message bumps its room's rooms.last_seq row and needs a commit (an fsync) before it is
// acknowledged. Writing each send as its own statement makes the commit, the round trip and the
// database backend's wake-up the cost of every message. Instead, sends are queued and written
// together: one statement takes whatever is queued for any number of rooms (each room's counter
// bumped once by its count, rows locked in room-id order so two instances never deadlock), and
// one commit makes them all durable. A lone send on an idle instance is written at once; under
// load, sends arriving while statements are in flight form the next batch, so batches grow with
// the load instead of the queue.
//
// One statement is in flight per instance; everything queued meanwhile, for any rooms, forms
// the next (classic group commit). Measured on the 2-core benchmark machine (bench/README.md),
// 20 rooms, one send in flight per room: 8 concurrent statements gave 1713 acked sends/s with
// ack p99 53 ms and the database backends at 95% CPU; 2 gave 1958/s, p99 50 ms; 1 gave
// 3137/s, p99 17 ms at 56% CPU, since one statement for many sends costs the database a fifth of
// what a statement per send does (bench/tools/write-cost.ts: 60 against 307 µs per message).
// Sends therefore commit, are acknowledged and are published in seq order per room. When a
// statement returns, the next one is sent before its senders are answered, so the fan-out work
// of one batch (a socket write per subscriber) overlaps the next batch's commit.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Metrics } from "../observability/metrics.js";
import type { Actor } from "./rooms.js";
import { OUTBOX_MESSAGE_POSTED, sendMessage, type Message } from "./messages.js";

export interface SendResult {
  message: Message;
  created: boolean;
}

interface Pending {
  id: string;
  roomId: string;
  actor: Actor;
  body: string;
  clientMsgId: string | undefined;
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

const COLUMNS = "id, room_id, seq, sender_id, body, client_msg_id, created_at";

// Only members' messages whose client_msg_id is new are inserted, into rooms of the sender's own
// client; each room's seqs follow the input order. Message ids come from the caller so each
// returned row maps back to its request. `locked` takes the room rows in id order first (a
// FOR UPDATE CTE is materialised, and its rows are locked in the sorted order), so concurrent
// batches over overlapping rooms wait for each other instead of deadlocking. Each room's outbox
// row commits with its messages, in the same statement.
//
// The plan is generic and cached per connection (db/pool.ts), so it is often made while the
// tables are nearly empty, right after a deploy, and kept as they grow. Written the obvious way
// (room_id IN (SELECT ... FROM input), a plain NOT EXISTS), PostgreSQL then picked a full scan of
// rooms and a hashed subplan that read the whole messages table on every batch: the database
// CPU per message grew with the table (1 ms at 25k messages in the benchmark). `= ANY` and the
// OFFSET 0 (which keeps the EXISTS from being turned into that hashed subplan) leave index
// lookups as the only sensible plan at any table size; a test checks it on an empty database.
const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])
    WITH ORDINALITY AS i(id, room_id, client_id, sender_id, body, client_msg_id, ord)
), locked AS (
  SELECT r.id, r.client_id FROM rooms r
   WHERE r.id = ANY($2::uuid[])
   ORDER BY r.id
     FOR UPDATE
), valid AS (
  SELECT i.*, row_number() OVER (PARTITION BY i.room_id ORDER BY i.ord) AS n
    FROM input i JOIN locked l ON l.id = i.room_id AND l.client_id = i.client_id
   WHERE EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = i.room_id AND m.user_id = i.sender_id)
     AND (i.client_msg_id IS NULL OR NOT EXISTS (
          SELECT 1 FROM messages x
           WHERE x.room_id = i.room_id AND x.sender_id = i.sender_id AND x.client_msg_id = i.client_msg_id
          OFFSET 0))
), counted AS (
  SELECT room_id, count(*) AS total FROM valid GROUP BY room_id
), bumped AS (
  UPDATE rooms SET last_seq = rooms.last_seq + counted.total
    FROM counted
   WHERE rooms.id = counted.room_id
  RETURNING rooms.id, rooms.last_seq, counted.total
), inserted AS (
  INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id)
  SELECT v.id, v.room_id, b.last_seq - b.total + v.n, v.sender_id, v.body, v.client_msg_id
    FROM valid v JOIN bumped b ON b.id = v.room_id
   ORDER BY v.room_id, v.n
  RETURNING ${COLUMNS}
), ${OUTBOX_MESSAGE_POSTED}
SELECT ${COLUMNS} FROM inserted`;

export class MessageWriter {
  /** Queued sends per room, in arrival order (a Map keeps rooms in the order they queued). */
  private readonly queues = new Map<string, Pending[]>();
  /** A statement is in flight; what queues meanwhile waits for it to finish. */
  private writing = false;
  private scheduled = false;

  private readonly maxBatch: number;
  private readonly metrics: Metrics | undefined;

  constructor(
    private readonly pool: pg.Pool,
    options: { maxBatch?: number; metrics?: Metrics } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.metrics = options.metrics;
  }

  send(actor: Actor, roomId: string, body: string, clientMsgId: string | undefined): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const queue = this.queues.get(roomId);
      const pending = { id: randomUUID(), roomId, actor, body, clientMsgId, resolve, reject };
      if (queue) queue.push(pending);
      else this.queues.set(roomId, [pending]);
      this.schedule();
    });
  }

  /** Starts the next statement at the end of this tick, so the sends of one tick share it. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.startBatch();
    });
  }

  private startBatch(): void {
    if (this.writing) return;
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    this.writing = true;
    this.metrics?.messageWriteBatch.observe(batch.length);
    const timer = this.metrics?.messageWriteDuration.startTimer();
    void this.write(batch).then(
      (settle) => this.finishBatch(settle, timer),
      (error: unknown) => this.finishBatch(() => batch.forEach((p) => p.reject(error)), timer),
    );
  }

  private finishBatch(settle: () => void, timer: (() => void) | undefined): void {
    timer?.();
    this.writing = false;
    // The next statement goes out before this batch's senders are answered: their acks, local
    // delivery and publishing (a write per subscriber) then overlap its round trip instead of
    // delaying it. pg-pool hands a connection over on the next tick (process.nextTick), so the
    // answers are queued behind that tick.
    this.startBatch();
    process.nextTick(settle);
  }

  /** Up to maxBatch queued sends, oldest rooms first, each room's in order. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    for (const [roomId, queue] of this.queues) {
      batch.push(...queue.splice(0, this.maxBatch - batch.length));
      if (queue.length === 0) this.queues.delete(roomId);
      if (batch.length >= this.maxBatch) break;
    }
    return batch;
  }

  /**
   * Writes a batch and returns what answers its senders. On the usual path every send was
   * inserted and answering waits for the caller; the rare others (a failed batch, a send the
   * batch did not insert) are written one by one and answered here.
   */
  private async write(batch: Pending[]): Promise<() => void> {
    const done = () => undefined;
    if (batch.length === 1) return this.writeOne(batch[0]!);
    // The same (room, sender, client_msg_id) twice in one batch: the first is written, the rest
    // answer with its stored message afterwards.
    const seen = new Set<string>();
    const unique: Pending[] = [];
    const repeats: Pending[] = [];
    for (const p of batch) {
      const key =
        p.clientMsgId === undefined ? undefined : `${p.roomId}\n${p.actor.userId}\n${p.clientMsgId}`;
      if (key !== undefined && seen.has(key)) repeats.push(p);
      else {
        if (key !== undefined) seen.add(key);
        unique.push(p);
      }
    }
    let rows: Message[];
    try {
      ({ rows } = await this.pool.query<Message>({
        name: "insert_message_batch_rooms",
        text: INSERT_BATCH,
        values: [
          unique.map((p) => p.id),
          unique.map((p) => p.roomId),
          unique.map((p) => p.actor.clientId),
          unique.map((p) => p.actor.userId),
          unique.map((p) => p.body),
          unique.map((p) => p.clientMsgId ?? null),
        ],
      }));
    } catch {
      // A concurrent duplicate (unique violation) or another failure: settle one by one. The
      // batch may have committed before the failure (a connection reset after COMMIT): each send
      // is retried under its own message id, which the batch used too, so none is stored twice.
      for (const p of unique) (await this.writeOne(p, p.id))();
      for (const p of repeats) (await this.writeOne(p))();
      return done;
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    if (repeats.length === 0 && unique.every((p) => byId.has(p.id))) {
      return () => {
        for (const p of unique) p.resolve({ message: byId.get(p.id)!, created: true });
      };
    }
    for (const p of unique) {
      const row = byId.get(p.id);
      // Not inserted: not a member (404) or a client_msg_id already stored (200): the single path says which.
      if (row) p.resolve({ message: row, created: true });
      else (await this.writeOne(p))();
    }
    for (const p of repeats) (await this.writeOne(p))();
    return done;
  }

  /** Writes one send on its own (under `messageId` when given); returns what answers it. */
  private async writeOne(p: Pending, messageId?: string): Promise<() => void> {
    try {
      const result = await sendMessage(this.pool, p.actor, p.roomId, p.body, p.clientMsgId, messageId);
      return () => p.resolve(result);
    } catch (error) {
      return () => p.reject(error);
    }
  }
}
