// The WebSocket hub: which local connections follow which rooms, and exactly-once, in-order
// delivery to them.
//
// Per room with local subscribers this instance keeps a stream whose `head` is the highest seq
// delivered, in order, to its live cursors. A message arriving (from a local send or from the
// fan-out) with seq = head + 1 goes straight out; seq <= head is a duplicate and dropped; a
// higher seq reveals a gap, which is filled from PostgreSQL (messages are published only after
// they commit, and seqs commit in order, so the database always has the missing ones). After a
// fan-out reconnect every stream re-reads from PostgreSQL for the same reason.
//
// A new subscriber first replays (after_seq, head] from PostgreSQL, then joins the live set in
// the same tick it reaches head, so there is no gap and no duplicate at the seam. Each cursor
// also remembers its own last seq, which filters duplicates once more.
//
// Membership: a subscribe is checked before it costs anything else (no stream, no Redis
// SUBSCRIBE, no head read for a room the user is not in). A removal reaches the cursors through
// a kick on the fan-out; a kick that arrives while a subscribe is between its check and its
// registration refuses that subscribe, and after a fan-out reconnect (kicks may have been lost)
// every local cursor's membership is read again before any live message goes out.
import type pg from "pg";
import type { Logger } from "pino";
import { messagesAfter } from "../domain/messages.js";
import { memberLastSeq, type Actor } from "../domain/rooms.js";
import { notFound } from "../domain/errors.js";
import type { Metrics } from "../observability/metrics.js";
import {
  decodePayload,
  encodeMessage,
  kickPayload,
  messagePayload,
  SharedFrame,
  type EncodedMessage,
} from "./encode.js";
import type { Fanout } from "./fanout.js";

/** What the hub writes to: a WebSocket connection, or a fake in tests. */
export interface Recipient {
  readonly userId: string;
  /** True once the connection is gone; the hub then stops tracking it. */
  readonly closed: boolean;
  /** Writes a frame; false when the recipient is gone (closed, or dropped as a slow consumer). */
  deliver(frame: Buffer | string | SharedFrame): boolean;
}

interface Cursor {
  readonly recipient: Recipient;
  lastSeq: number;
  live: boolean;
  closed: boolean;
  /** Failed catch-up reads in a row (the retry waits longer each time). */
  failures: number;
}

/** A subscribe between its membership check and its registration. */
interface PendingSubscribe {
  readonly roomId: string;
  readonly userId: string;
  kicked: boolean;
}

interface RoomStream {
  readonly roomId: string;
  head: number;
  /** Resolves once the fan-out subscription is active and head is read. */
  ready: Promise<void>;
  initialised: boolean;
  readonly cursors: Set<Cursor>;
  /** Messages that arrived ahead of a gap, by seq. */
  readonly pending: Map<number, Buffer>;
  syncing: boolean;
  syncAgain: boolean;
  releaseTimer: NodeJS.Timeout | undefined;
}

export interface HubOptions {
  pool: pg.Pool;
  fanout: Fanout;
  logger: Logger;
  metrics: Metrics;
  /** Rows per database read during replay and catch-up. */
  pageSize?: number;
  /** How long a room stays subscribed on the fan-out after its last local subscriber left. */
  releaseAfterMs?: number;
}

const MAX_PENDING = 10_000;
/** Longest wait between two attempts of a failing catch-up read. */
const MAX_CATCH_UP_RETRY_MS = 10_000;

export class Hub {
  private readonly streams = new Map<string, RoomStream>();
  private readonly byRecipient = new Map<Recipient, Map<string, Cursor>>();
  private readonly pendingSubscribes = new Set<PendingSubscribe>();
  /**
   * From the moment the fan-out's subscription is lost until memberships are read again after
   * it is back: live messages wait in their stream's pending set (a kick may have been lost, so
   * a cursor may belong to a removed member).
   */
  private holdLive = false;
  private resyncGeneration = 0;
  private readonly pageSize: number;
  private readonly releaseAfterMs: number;

  constructor(private readonly options: HubOptions) {
    this.pageSize = options.pageSize ?? 500;
    this.releaseAfterMs = options.releaseAfterMs ?? 30_000;
    options.fanout.setHandlers({
      onMessage: (roomId, payload) => this.onFanoutPayload(roomId, payload),
      onInterrupted: () => this.holdUntilResync(),
      onResync: () => this.resyncAll(),
    });
  }

  /** Rooms with a local stream (for tests and metrics). */
  get roomCount(): number {
    return this.streams.size;
  }

  /**
   * Subscribes a recipient to a room it is a member of: sends `subscribed`, replays every
   * message after `afterSeq` (default: none), then live messages. 404 ApiError for non-members
   * (and for a member removed while this subscribe was in progress).
   */
  async subscribe(recipient: Recipient, actor: Actor, roomId: string, afterSeq?: number): Promise<void> {
    // Registered before the membership read: a kick for a removal that read did not see yet
    // arrives after the read started, and finds this entry.
    const pending: PendingSubscribe = { roomId, userId: recipient.userId, kicked: false };
    this.pendingSubscribes.add(pending);
    let stream: RoomStream | undefined;
    let lastSeq: number | undefined;
    try {
      lastSeq = await memberLastSeq(this.options.pool, actor, roomId);
      if (lastSeq !== undefined && !recipient.closed && !pending.kicked) {
        stream = this.streamFor(roomId);
        await stream.ready;
      }
    } catch (error) {
      if (stream) this.maybeRelease(stream);
      throw error;
    } finally {
      this.pendingSubscribes.delete(pending);
    }
    if (!stream || lastSeq === undefined || recipient.closed || pending.kicked) {
      if (stream) this.maybeRelease(stream);
      if (recipient.closed) return;
      throw notFound("room");
    }
    this.removeCursor(recipient, roomId);
    const head = Math.max(stream.head, lastSeq);
    const cursor: Cursor = { recipient, lastSeq: afterSeq ?? head, live: false, closed: false, failures: 0 };
    stream.cursors.add(cursor);
    this.cursorsOf(recipient).set(roomId, cursor);
    // removeCursor above may have started the release timer of this very stream.
    clearTimeout(stream.releaseTimer);
    stream.releaseTimer = undefined;
    recipient.deliver(`{"type":"subscribed","room_id":${JSON.stringify(roomId)},"last_seq":${head}}`);
    // The room holds more than this instance has seen (a publish was lost): read it, so the
    // replay below and the live cursors get it now rather than when the next message arrives.
    if (lastSeq > stream.head) void this.sync(stream);
    await this.catchUp(stream, cursor);
  }

  unsubscribe(recipient: Recipient, roomId: string): void {
    this.removeCursor(recipient, roomId);
  }

  /** Forgets a recipient entirely (its connection closed). */
  removeRecipient(recipient: Recipient): void {
    const cursors = this.byRecipient.get(recipient);
    if (!cursors) return;
    for (const roomId of [...cursors.keys()]) this.removeCursor(recipient, roomId);
    this.byRecipient.delete(recipient);
  }

  isSubscribed(recipient: Recipient, roomId: string): boolean {
    return this.byRecipient.get(recipient)?.has(roomId) ?? false;
  }

  /**
   * Publishes a freshly committed message to every other instance, then delivers it here:
   * publishing first lets the other instances fan it out while this one writes to its own
   * subscribers.
   */
  publish(encoded: EncodedMessage): void {
    this.options.fanout.publish(encoded.roomId, messagePayload(encoded.seq, encoded.frame));
    this.dispatch(encoded.roomId, encoded.seq, encoded.frame);
  }

  /** A member was removed: their subscriptions to the room end here and on every instance. */
  kick(roomId: string, userId: string): void {
    this.kickLocal(roomId, userId);
    this.options.fanout.publish(roomId, kickPayload(userId), { keep: true });
  }

  private onFanoutPayload(roomId: string, payload: Buffer): void {
    const decoded = decodePayload(payload);
    if (decoded.kind === "message") this.dispatch(roomId, decoded.seq, decoded.frame);
    else if (decoded.kind === "kick") this.kickLocal(roomId, decoded.userId);
  }

  private kickLocal(roomId: string, userId: string): void {
    for (const pending of this.pendingSubscribes) {
      if (pending.roomId === roomId && pending.userId === userId) pending.kicked = true;
    }
    const stream = this.streams.get(roomId);
    if (!stream) return;
    for (const cursor of [...stream.cursors]) {
      if (cursor.recipient.userId !== userId) continue;
      this.removeCursor(cursor.recipient, roomId);
      cursor.recipient.deliver(
        `{"type":"unsubscribed","room_id":${JSON.stringify(roomId)},"reason":"removed"}`,
      );
    }
  }

  private dispatch(roomId: string, seq: number, frame: Buffer): void {
    const stream = this.streams.get(roomId);
    // Before head is known, anything arriving is already covered by the head read.
    if (!stream || !stream.initialised || seq <= stream.head) return;
    if (this.holdLive) {
      if (stream.pending.size < MAX_PENDING) stream.pending.set(seq, frame); // else the sync reads it
      return;
    }
    if (seq === stream.head + 1) {
      this.advance(stream, seq, frame);
      this.drainPending(stream);
      return;
    }
    if (stream.pending.size >= MAX_PENDING) stream.pending.clear(); // the sync re-reads them anyway
    stream.pending.set(seq, frame);
    void this.sync(stream);
  }

  /** Hands seq = head + 1 to every live cursor. */
  private advance(stream: RoomStream, seq: number, frame: Buffer): void {
    stream.head = seq;
    let delivered = 0;
    const shared = new SharedFrame(frame);
    for (const cursor of stream.cursors) {
      if (!cursor.live || seq <= cursor.lastSeq) continue;
      if (seq !== cursor.lastSeq + 1) {
        // Cannot happen while live cursors sit at head; if it ever does, replay rather than skip.
        cursor.live = false;
        void this.catchUp(stream, cursor);
        continue;
      }
      cursor.lastSeq = seq;
      if (cursor.recipient.deliver(shared)) delivered++;
    }
    if (delivered > 0) this.options.metrics.messagesDelivered.inc(delivered);
  }

  private drainPending(stream: RoomStream): void {
    for (const seq of [...stream.pending.keys()]) if (seq <= stream.head) stream.pending.delete(seq);
    let next = stream.pending.get(stream.head + 1);
    while (next) {
      stream.pending.delete(stream.head + 1);
      this.advance(stream, stream.head + 1, next);
      next = stream.pending.get(stream.head + 1);
    }
  }

  /** Reads everything after head from PostgreSQL (one reader per room at a time). */
  private async sync(stream: RoomStream): Promise<void> {
    if (this.holdLive) return; // every stream syncs when the hold ends
    if (stream.syncing) {
      stream.syncAgain = true;
      return;
    }
    stream.syncing = true;
    try {
      do {
        stream.syncAgain = false;
        this.options.metrics.catchUpQueries.inc();
        const rows = await messagesAfter(this.options.pool, stream.roomId, stream.head, this.pageSize);
        for (const row of rows) {
          if (row.seq === stream.head + 1) this.advance(stream, row.seq, encodeMessage(row).frame);
        }
        this.drainPending(stream);
        if (rows.length === this.pageSize) stream.syncAgain = true;
      } while (stream.syncAgain && this.streams.get(stream.roomId) === stream);
    } catch (error) {
      this.options.logger.warn(
        { err: (error as Error).message, room_id: stream.roomId },
        "catch-up read failed; retrying",
      );
      setTimeout(() => void this.sync(stream), 1000).unref();
    } finally {
      stream.syncing = false;
    }
  }

  /**
   * Replays (cursor.lastSeq, head] to one cursor, then makes it live in the same tick. A failed
   * read is retried (with a growing wait) until it succeeds or the cursor closes: the client was
   * told `subscribed`, so giving up silently would leave it with nothing.
   */
  private async catchUp(stream: RoomStream, cursor: Cursor): Promise<void> {
    try {
      while (!cursor.closed && cursor.lastSeq < stream.head) {
        const rows = await messagesAfter(
          this.options.pool,
          stream.roomId,
          cursor.lastSeq,
          this.pageSize,
          stream.head,
        );
        if (cursor.closed) return;
        let delivered = 0;
        for (const row of rows) {
          if (row.seq !== cursor.lastSeq + 1) break;
          cursor.lastSeq = row.seq;
          if (!cursor.recipient.deliver(encodeMessage(row).frame)) return;
          delivered++;
        }
        if (delivered > 0) this.options.metrics.messagesDelivered.inc(delivered);
        if (rows.length === 0) break;
      }
    } catch (error) {
      if (cursor.closed) return;
      cursor.failures++;
      const waitMs = Math.min(MAX_CATCH_UP_RETRY_MS, 250 * 2 ** cursor.failures);
      this.options.logger.warn(
        { err: (error as Error).message, room_id: stream.roomId, retry_in_ms: waitMs },
        "subscriber catch-up read failed; retrying",
      );
      setTimeout(() => void this.catchUp(stream, cursor), waitMs).unref();
      return;
    }
    cursor.failures = 0;
    if (!cursor.closed) cursor.live = true;
  }

  private streamFor(roomId: string): RoomStream {
    const existing = this.streams.get(roomId);
    if (existing) {
      clearTimeout(existing.releaseTimer);
      existing.releaseTimer = undefined;
      return existing;
    }
    const stream: RoomStream = {
      roomId,
      head: 0,
      ready: Promise.resolve(),
      initialised: false,
      cursors: new Set(),
      pending: new Map(),
      syncing: false,
      syncAgain: false,
      releaseTimer: undefined,
    };
    stream.ready = this.initialise(stream);
    // A failed initialisation is retried by the next subscriber.
    stream.ready.catch(() => {
      if (this.streams.get(roomId) === stream) this.streams.delete(roomId);
      this.options.metrics.fanoutRooms.set(this.streams.size);
    });
    this.streams.set(roomId, stream);
    this.options.metrics.fanoutRooms.set(this.streams.size);
    return stream;
  }

  /** Subscribe on the fan-out first, then read head: nothing committed after the read is missed. */
  private async initialise(stream: RoomStream): Promise<void> {
    await this.options.fanout.subscribe(stream.roomId);
    const { rows } = await this.options.pool.query<{ last_seq: number }>({
      name: "room_head",
      text: "SELECT last_seq FROM rooms WHERE id = $1",
      values: [stream.roomId],
    });
    stream.head = Math.max(stream.head, rows[0]?.last_seq ?? 0);
    stream.initialised = true;
    this.drainPending(stream);
  }

  /**
   * Kicks may be lost from now on: nothing is delivered live (not even this instance's own
   * messages) until the fan-out is back and memberships are read again (resyncAll). A membership
   * read still in flight from an earlier reconnect no longer ends the hold.
   */
  private holdUntilResync(): void {
    this.resyncGeneration++;
    this.holdLive = true;
  }

  /**
   * After a fan-out reconnect messages and kicks may have been lost meanwhile: membership is
   * read again first (so a removed member is not sent what it missed), then every room catches up.
   */
  private resyncAll(): void {
    const generation = ++this.resyncGeneration;
    this.holdLive = true;
    void this.recheckMembership().then(
      () => {
        if (generation !== this.resyncGeneration) return; // a newer reconnect reads them again
        this.holdLive = false;
        for (const stream of this.streams.values()) if (stream.initialised) void this.sync(stream);
      },
      (error: unknown) => {
        this.options.logger.warn(
          { err: (error as Error).message },
          "membership re-check after a fan-out reconnect failed; retrying",
        );
        setTimeout(() => {
          if (generation === this.resyncGeneration) this.resyncAll();
        }, 1000).unref();
      },
    );
  }

  /** Kicks every local cursor whose user is no longer a member of its room (one read for all). */
  private async recheckMembership(): Promise<void> {
    const pairs = new Map<string, { roomId: string; userId: string }>();
    for (const stream of this.streams.values()) {
      for (const cursor of stream.cursors) {
        const userId = cursor.recipient.userId;
        pairs.set(`${stream.roomId} ${userId}`, { roomId: stream.roomId, userId });
      }
    }
    if (pairs.size === 0) return;
    const list = [...pairs.values()];
    const { rows } = await this.options.pool.query<{ room_id: string; user_id: string }>(
      `SELECT m.room_id, m.user_id
         FROM unnest($1::uuid[], $2::uuid[]) AS p(room_id, user_id)
         JOIN room_members m ON m.room_id = p.room_id AND m.user_id = p.user_id`,
      [list.map((p) => p.roomId), list.map((p) => p.userId)],
    );
    const members = new Set(rows.map((r) => `${r.room_id} ${r.user_id}`));
    for (const [key, { roomId, userId }] of pairs) if (!members.has(key)) this.kickLocal(roomId, userId);
  }

  private cursorsOf(recipient: Recipient): Map<string, Cursor> {
    let cursors = this.byRecipient.get(recipient);
    if (!cursors) {
      cursors = new Map();
      this.byRecipient.set(recipient, cursors);
    }
    return cursors;
  }

  private removeCursor(recipient: Recipient, roomId: string): void {
    const cursors = this.byRecipient.get(recipient);
    const cursor = cursors?.get(roomId);
    if (!cursor) return;
    cursor.closed = true;
    cursor.live = false;
    cursors!.delete(roomId);
    if (cursors!.size === 0) this.byRecipient.delete(recipient);
    const stream = this.streams.get(roomId);
    if (stream) {
      stream.cursors.delete(cursor);
      this.maybeRelease(stream);
    }
  }

  /** Drops the fan-out subscription of a room nobody here follows any more (after a grace period). */
  private maybeRelease(stream: RoomStream): void {
    if (stream.cursors.size > 0 || stream.releaseTimer) return;
    stream.releaseTimer = setTimeout(() => {
      stream.releaseTimer = undefined;
      if (stream.cursors.size > 0 || this.streams.get(stream.roomId) !== stream) return;
      this.streams.delete(stream.roomId);
      this.options.metrics.fanoutRooms.set(this.streams.size);
      void this.options.fanout.unsubscribe(stream.roomId);
    }, this.releaseAfterMs);
    stream.releaseTimer.unref();
  }
}
