// Steady chat load with honest bookkeeping. Three kinds of sender take turns: REST and WebSocket
// with a client_msg_id (retried under the same id, on the next instance, with backoff, until
// acked: a retry can never make a second message), and REST without one (sent once: a send whose
// answer was lost is not repeated, so the client never duplicates it; the server must not
// either). Every body is unique, so "stored twice" counts bodies, which no index forces to 0.
// Subscribers hold WebSockets on every instance, reconnect with exponential backoff and full
// jitter, and resubscribe with the last seq they saw (API.md). While the load runs, the last
// subscriber(s) are removed from the first room: nothing committed after that may reach them.
// Optional readers page through history. Each subscriber measures the longest gap between two
// messages it received. finish() drains, compares what each subscriber got with what PostgreSQL
// holds, and counts lost / duplicated / out-of-order, and every request that failed.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import {
  type Attempt,
  failureOf,
  NOTHING_SENT,
  postMessage,
  type Removal,
  Subscriber,
  type WsOptions,
  WsSender,
} from "./load-clients";
import { sleep } from "../../toolbox/processes";
import type { Tenant } from "./stack";

/** Every stored message of some rooms (PostgreSQL as the test sees it). */
export type StoredMessages = (rooms: string[]) => Promise<{ room_id: string; seq: string; body: string }[]>;

export interface LoadOptions {
  tenant: Tenant;
  /** Where the stored messages are read from: a pool on the database, or a function. */
  pool?: pg.Pool;
  storedMessages?: StoredMessages;
  /** Senders of the three kinds in turn (REST with client_msg_id, WebSocket with one, REST without). */
  senders: number;
  /** Every sender posts over REST with a client_msg_id instead (a deploy's drain closes WebSockets by design). */
  restSendersOnly?: boolean;
  subscribers: number;
  /** More REST senders without client_msg_id (one attempt per message; users after the subscribers). */
  plainSenders?: number;
  /** History readers (GET /rooms/{id}/messages), each at `readRate` per second. */
  readers?: number;
  readRate?: number;
  /** fetch to use (e.g. one whose dispatcher trusts a stack's CA). */
  fetch?: typeof fetch;
  /** Messages per second per sender (each waits for its ack before the next). */
  ratePerSender: number;
  /** REST bases the senders cycle through (asked before every attempt). */
  senderTargets: () => string[];
  /** WebSocket bases of the WebSocket senders (default: the REST bases as ws://). */
  wsSenderTargets?: () => string[];
  /** WebSocket bases (ws://host:port) for subscriber n: its home first, then fallbacks. */
  subscriberTargets: (n: number) => string[];
  /** TLS options for wss:// (ca, servername). */
  wsOptions?: WsOptions;
  /** Per subscriber, added to wsOptions (e.g. an X-Forwarded-For header a trusted proxy would set). */
  subscriberWsOptions?: (n: number) => WsOptions;
  /** Each subscriber connects from its own loopback address (many clients, not one). */
  distinctAddresses?: boolean;
  /** Per-attempt timeout of a send. */
  requestTimeoutMs?: number;
  /** Subscribers (the last ones) removed from the first room while the load runs (default 1). */
  leavers?: number;
  /** When they are removed, after the senders started (default 1000 ms). */
  leaveAfterMs?: number;
}

/** Sender n's kind: n % 3. (A WebSocket send always carries a client_msg_id: API.md.) */
const SENDER_KINDS = [
  { transport: "rest", idempotent: true },
  { transport: "ws", idempotent: true },
  { transport: "rest", idempotent: false },
] as const;
const PLAIN_KIND = SENDER_KINDS[2];

/** What a request was: an idempotent send, a send without client_msg_id, a history read. */
type RequestKind = "send" | "plainSend" | "read";
const ok = (outcome: string) => outcome === "200" || outcome === "201";

export interface LoadReport {
  sent: number;
  acked: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Every send attempt by outcome (status code or WebSocket answer, "refused" at connect, "network" = cut, "timeout"). */
  outcomes: Record<string, number>;
  /** Stored messages (acked or not) some subscriber never got. */
  missedStored: number;
  /** Acked messages missing from PostgreSQL, or stored under another seq than acked. */
  ackedNotStored: number;
  /** Message bodies (each sent once, unique) stored more than once. */
  storedTwice: number;
  /** Rooms whose seqs are not 1..last_seq without gaps. */
  roomsWithGaps: number;
  /** A retry's ack named another seq than the first ack of the same client_msg_id. */
  ackMismatch: number;
  reconnects: number;
  closeCodes: Record<string, number>;
  /** Sends given up after their retry budget (never acked). */
  abandoned: number;
  /** Sends without client_msg_id whose answer was lost (not retried; stored at most once). */
  unknownOutcome: number;
  /** Sends per kind, e.g. "rest+id 120, ws+id 118, rest 119". */
  sendsByKind: string;
  /** Requests that did not succeed (non-2xx, cut, refused, timed out), by kind; each retry counts. */
  failedRequests: Record<RequestKind, number>;
  /** Requests made, by kind. */
  requests: Record<RequestKind, number>;
  /** The longest time one subscriber went without a message (ms), and without its subscriptions. */
  longestGapMs: number;
  longestDisconnectMs: number;
  /** Members removed from a room under load, and how many learned it (unsubscribed / 404). */
  removed: number;
  removalNoticed: number;
  /** Messages committed after a member's removal that still reached that member. */
  deliveredAfterRemoval: number;
}

export class Load {
  private readonly subscribers: Subscriber[] = [];
  private readonly wsSenders: WsSender[] = [];
  /** Acked sends by body. */
  private readonly acks = new Map<string, { roomId: string; seq: number }>();
  private readonly outcomes = new Map<string, number>();
  private readonly attemptsLog: {
    startedAt: number;
    at: number;
    base: string;
    outcome: string;
    kind: RequestKind;
    /** What a failed attempt saw (the error or the answer's start). */
    sample?: string;
  }[] = [];
  private readonly kinds = new Map<string, number>();
  private sent = 0;
  /** The first body seen for each non-2xx outcome (to check error envelopes). */
  readonly errorSamples = new Map<string, string>();
  private ackMismatch = 0;
  private abandoned = 0;
  private unknownOutcome = 0;
  private stopping = false;
  private senders: Promise<void>[] = [];
  private leaving: Promise<void> = Promise.resolve();

  constructor(private readonly options: LoadOptions) {}

  private get restSendersOnly(): boolean {
    return this.options.restSendersOnly === true;
  }

  /** Starts subscribers, waits until every one is subscribed, then starts the senders. */
  async start(): Promise<void> {
    const { tenant, senders, subscribers } = this.options;
    const plain = this.options.plainSenders ?? 0;
    if (tenant.users.length < senders + subscribers + plain) throw new Error("the tenant has too few users");
    for (let n = 0; n < subscribers; n++) {
      const user = tenant.users[senders + n]!;
      const extra = this.options.subscriberWsOptions?.(n);
      const wsOptions: WsOptions | undefined = {
        ...this.options.wsOptions,
        ...(this.options.distinctAddresses && {
          localAddress: `127.0.${1 + Math.floor(n / 200)}.${10 + (n % 200)}`,
        }),
        ...extra,
        headers: { ...this.options.wsOptions?.headers, ...extra?.headers },
      };
      const sub = new Subscriber(
        user.id,
        user.token,
        tenant.rooms,
        () => this.options.subscriberTargets(n),
        wsOptions,
      );
      this.subscribers.push(sub);
      sub.start();
    }
    await this.waitSubscribed(30_000);
    for (let s = 0; s < senders; s++)
      this.senders.push(this.restSendersOnly ? this.sender(s, SENDER_KINDS[0]) : this.sender(s));
    for (let p = 0; p < plain; p++) this.senders.push(this.sender(senders + subscribers + p, PLAIN_KIND));
    for (let r = 0; r < (this.options.readers ?? 0); r++) this.senders.push(this.reader(r));
    const leavers = Math.min(this.options.leavers ?? 1, subscribers - 1);
    if (leavers > 0) this.leaving = this.removeLeavers(this.subscribers.slice(-leavers));
  }

  /** True when every subscriber has a live subscription to every room it still follows. */
  allSubscribed(): boolean {
    return this.subscribers.every((s) => s.connected && s.subscribed.size === s.following);
  }

  async waitSubscribed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.allSubscribed()) {
      if (Date.now() > deadline) throw new Error("subscribers did not all subscribe in time");
      await sleep(50);
    }
  }

  /** Instances the subscribers are on right now (from the ready frame). */
  subscriberInstances(): string[] {
    return this.subscribers.map((s) => s.instance ?? "?");
  }

  /** Attempts by outcome, those matching `filter` (start/end ms epoch, target base). */
  outcomesWhere(
    filter: (a: { startedAt: number; at: number; base: string }) => boolean,
  ): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.attemptsLog) if (filter(a)) counts[a.outcome] = (counts[a.outcome] ?? 0) + 1;
    return counts;
  }

  /** The requests that did not succeed: when each started and ended (ms epoch), and what it saw. */
  failedAttempts(): { startedAt: number; at: number; kind: RequestKind; outcome: string; sample?: string }[] {
    return this.attemptsLog.filter((a) => !ok(a.outcome));
  }

  /** When each reconnection reached a server (its ready frame), over every subscriber (ms epoch). */
  reconnectArrivals(): number[] {
    return this.subscribers.flatMap((s) => s.reconnectArrivals).sort((a, b) => a - b);
  }

  /** Acks so far (to wait for traffic to flow again after a fault). */
  get ackedCount(): number {
    return this.acks.size;
  }

  private record(startedAt: number, base: string, attempt: Attempt, kind: RequestKind): void {
    const { outcome } = attempt;
    if (kind !== "read") this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    this.attemptsLog.push({ startedAt, at: Date.now(), base, outcome, kind, sample: attempt.sample });
    if (attempt.sample && !this.errorSamples.has(outcome)) this.errorSamples.set(outcome, attempt.sample);
  }

  /** History reads: the newest page of a room, as a client opening it does. */
  private async reader(index: number): Promise<void> {
    const { tenant } = this.options;
    const token = tenant.users[index % tenant.users.length]!.token;
    const interval = 1000 / (this.options.readRate ?? 5);
    for (let n = 0; !this.stopping; n++) {
      const started = Date.now();
      const targets = this.options.senderTargets();
      const base = targets[(n + index) % targets.length]!;
      const room = tenant.rooms[(n + index) % tenant.rooms.length]!;
      let outcome: string;
      let sample: string | undefined;
      try {
        const response = await (this.options.fetch ?? fetch)(
          `${base}/api/v1/rooms/${room}/messages?limit=20`,
          {
            headers: { authorization: `Bearer ${token}` },
            signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 5000),
          },
        );
        await response.text();
        outcome = String(response.status);
      } catch (error) {
        outcome = failureOf(error);
        sample = String((error as { cause?: unknown }).cause ?? error).slice(0, 300);
      }
      this.record(started, base, { outcome, sample }, "read");
      const wait = interval - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
  }

  /** Sender `index` (user `index`); its kind by turn unless given. */
  private async sender(
    index: number,
    kind: (typeof SENDER_KINDS)[number] = SENDER_KINDS[index % SENDER_KINDS.length]!,
  ): Promise<void> {
    const { tenant, ratePerSender } = this.options;
    const label = `${kind.transport}${kind.idempotent ? "+id" : ""}`;
    const token = tenant.users[index]!.token;
    const timeoutMs = this.options.requestTimeoutMs ?? 5000;
    const wsTargets =
      this.options.wsSenderTargets ??
      (() => this.options.senderTargets().map((b) => b.replace(/^http/, "ws")));
    const ws = kind.transport === "ws" ? new WsSender(token, wsTargets, this.options.wsOptions) : undefined;
    if (ws) this.wsSenders.push(ws);
    const interval = 1000 / ratePerSender;
    let target = index;
    for (let n = 0; !this.stopping; n++) {
      const started = Date.now();
      const roomId = tenant.rooms[(n + index) % tenant.rooms.length]!;
      const body = `chaos ${index}/${n} ${randomUUID()}`;
      const clientMsgId = kind.idempotent ? randomUUID() : undefined;
      this.sent++;
      this.kinds.set(label, (this.kinds.get(label) ?? 0) + 1);
      // An idempotent send: the same client_msg_id until acked; give up only well after the
      // load stopped. Without an id: once, unless nothing reached a server.
      let giveUpAt = Infinity;
      let firstSeq: number | undefined;
      for (let attempt = 0; ; attempt++) {
        if (this.stopping && giveUpAt === Infinity) giveUpAt = Date.now() + 60_000;
        if (Date.now() > giveUpAt) {
          this.abandoned++;
          break;
        }
        const attemptStart = Date.now();
        let base: string;
        let result: Attempt;
        if (ws) {
          base = "ws";
          result = await ws.send(roomId, body, clientMsgId, timeoutMs);
        } else {
          const targets = this.options.senderTargets();
          base = targets[target % targets.length]!;
          result = await postMessage(base, token, roomId, body, clientMsgId, timeoutMs, this.options.fetch);
        }
        this.record(attemptStart, base, result, kind.idempotent ? "send" : "plainSend");
        if (result.message) {
          if (firstSeq !== undefined && firstSeq !== result.message.seq) this.ackMismatch++;
          firstSeq = result.message.seq;
          this.acks.set(body, { roomId, seq: result.message.seq });
          break;
        }
        if (result.permanent) {
          this.abandoned++;
          break;
        }
        if (!kind.idempotent && !NOTHING_SENT.has(result.outcome)) {
          this.unknownOutcome++;
          break;
        }
        target++;
        await sleep(Math.random() * Math.min(1000, 50 * 2 ** attempt));
      }
      const wait = interval - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
  }

  /** Removes each leaver from the first room (as its creator would), noting the seqs around it. */
  private async removeLeavers(leavers: Subscriber[]): Promise<void> {
    await sleep(this.options.leaveAfterMs ?? 1000);
    const { tenant } = this.options;
    const room = tenant.rooms[0]!;
    for (const leaver of leavers) {
      if (this.stopping) return;
      const before = await this.lastSeq(room);
      for (let attempt = 0; attempt < 60; attempt++) {
        const targets = this.options.senderTargets();
        const status = await (this.options.fetch ?? fetch)(
          `${targets[attempt % targets.length]}/api/v1/rooms/${room}/members/${leaver.userId}`,
          {
            method: "DELETE",
            headers: { authorization: `Bearer ${tenant.users[0]!.token}` },
            signal: AbortSignal.timeout(5000),
          },
        ).then(
          (r) => r.status,
          () => 0,
        );
        // 404: an earlier attempt removed it and only its answer was lost.
        if (status === 204 || status === 404) {
          leaver.removal = { room, before, after: await this.lastSeq(room) } satisfies Removal;
          break;
        }
        await sleep(500);
      }
    }
  }

  /** The room's highest stored seq (= its last_seq: seqs are stored without gaps). */
  private async lastSeq(room: string): Promise<number> {
    const rows = await this.storedMessages([room]);
    return Math.max(0, ...rows.map((row) => Number(row.seq)));
  }

  /** Stops the senders, waits (bounded) for subscribers to catch up, and counts. */
  async finish(catchUpMs = 30_000): Promise<LoadReport> {
    this.stopping = true;
    await Promise.all([...this.senders, this.leaving]);
    for (const ws of this.wsSenders) ws.stop();
    const rooms = this.options.tenant.rooms;
    const rows = await this.storedMessages(rooms);
    const heads = new Map<string, number>(rooms.map((r) => [r, 0]));
    const perRoom = new Map<string, number>(rooms.map((r) => [r, 0]));
    const stored = new Map<string, { roomId: string; seq: number; count: number }>();
    for (const row of rows) {
      const seq = Number(row.seq);
      heads.set(row.room_id, Math.max(heads.get(row.room_id) ?? 0, seq));
      perRoom.set(row.room_id, (perRoom.get(row.room_id) ?? 0) + 1);
      const s = stored.get(row.body);
      stored.set(row.body, { roomId: row.room_id, seq, count: (s?.count ?? 0) + 1 });
    }
    const deadline = Date.now() + catchUpMs;
    while (!this.subscribers.every((s) => s.caughtUp(heads)) && Date.now() < deadline) await sleep(100);
    for (const s of this.subscribers) s.stop();

    const missing = (room: string, seq: number) =>
      this.subscribers.some((sub) => sub.owes(room, seq) && !sub.received.get(room)!.has(seq));
    let ackedNotStored = 0;
    let lost = 0;
    for (const [body, ack] of this.acks) {
      const s = stored.get(body);
      const inDb = s !== undefined && s.seq === ack.seq && s.roomId === ack.roomId;
      if (!inDb) ackedNotStored++;
      if (!inDb || missing(ack.roomId, ack.seq)) lost++;
    }
    const missedStored = rows.filter((row) => missing(row.room_id, Number(row.seq))).length;
    const closeCodes: Record<string, number> = {};
    for (const s of this.subscribers)
      for (const [code, n] of s.closeCodes) closeCodes[code] = (closeCodes[code] ?? 0) + n;
    const removed = this.subscribers.filter((s) => s.removal);
    const byKind = (filter: (outcome: string) => boolean) => {
      const counts: Record<RequestKind, number> = { send: 0, plainSend: 0, read: 0 };
      for (const a of this.attemptsLog) if (filter(a.outcome)) counts[a.kind]++;
      return counts;
    };
    return {
      sent: this.sent,
      acked: this.acks.size,
      delivered: this.subscribers.reduce(
        (sum, s) => sum + [...s.received.values()].reduce((a, set) => a + set.size, 0),
        0,
      ),
      lost,
      duplicated: this.subscribers.reduce((sum, s) => sum + s.duplicated, 0),
      outOfOrder: this.subscribers.reduce((sum, s) => sum + s.outOfOrder, 0),
      outcomes: Object.fromEntries(this.outcomes),
      missedStored,
      ackedNotStored,
      storedTwice: [...stored.values()].filter((s) => s.count > 1).length,
      roomsWithGaps: rooms.filter((r) => perRoom.get(r) !== heads.get(r)).length,
      ackMismatch: this.ackMismatch,
      reconnects: this.subscribers.reduce((sum, s) => sum + s.reconnects, 0),
      closeCodes,
      abandoned: this.abandoned,
      unknownOutcome: this.unknownOutcome,
      failedRequests: byKind((outcome) => !ok(outcome)),
      requests: byKind(() => true),
      longestGapMs: Math.max(0, ...this.subscribers.map((s) => s.longestGapMs)),
      longestDisconnectMs: Math.max(0, ...this.subscribers.map((s) => s.longestDisconnectMs)),
      sendsByKind: [...this.kinds].map(([k, n]) => `${k} ${n}`).join(", "),
      removed: removed.length,
      removalNoticed: removed.filter((s) => s.left.has(s.removal!.room)).length,
      deliveredAfterRemoval: removed.reduce((sum, s) => sum + s.deliveredAfterRemoval(), 0),
    };
  }

  /** Every stored message of the rooms (retried: the pool may hold connections a restart broke). */
  private async storedMessages(rooms: string[]) {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.options.storedMessages) return await this.options.storedMessages(rooms);
        if (!this.options.pool) throw new Error("the load needs a pool or storedMessages to count");
        const { rows } = await this.options.pool.query<{ room_id: string; seq: string; body: string }>(
          "SELECT room_id, seq, body FROM messages WHERE room_id = ANY($1::uuid[])",
          [rooms],
        );
        return rows;
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(500);
      }
    }
  }

  /** Stops everything without counting (cleanup after a failure). */
  abort(): void {
    this.stopping = true;
    for (const s of this.subscribers) s.stop();
    for (const ws of this.wsSenders) ws.stop();
  }
}
