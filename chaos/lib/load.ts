// Steady chat load with honest bookkeeping. Senders post over REST with a client_msg_id and
// retry the same id (on the next instance, with backoff) until it is acked, so a retry can
// never make a second message. Plain senders post without one and never retry (a failure is
// a failure). Readers page through history. Subscribers hold WebSockets on every instance,
// reconnect with exponential backoff and full jitter, and resubscribe with the last seq they
// saw (API.md); each measures the longest gap between two messages it received. finish()
// drains, compares what each subscriber got with what PostgreSQL holds, and counts lost /
// duplicated / out-of-order, and every request that failed.
import { randomUUID } from "node:crypto";
import type { RequestOptions } from "node:https";
import type pg from "pg";
import WebSocket, { type ClientOptions } from "ws";
import type { Tenant } from "./stack";
import { sleep } from "./processes";

/** Every stored message of some rooms (PostgreSQL as the test sees it). */
export type StoredMessages = (
  rooms: string[],
) => Promise<{ room_id: string; seq: string; client_msg_id: string | null }[]>;

export interface LoadOptions {
  tenant: Tenant;
  /** Where the stored messages are read from: a pool on the database, or a function. */
  pool?: pg.Pool;
  storedMessages?: StoredMessages;
  senders: number;
  subscribers: number;
  /** Senders without client_msg_id: one attempt per message, no retry (users after the subscribers). */
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
  /** WebSocket bases (ws://host:port) for subscriber n: its home first, then fallbacks. */
  subscriberTargets: (n: number) => string[];
  /** TLS options for wss:// (ca, servername). */
  wsOptions?: ClientOptions & Pick<RequestOptions, "servername">;
  /** Per subscriber, added to wsOptions (e.g. an X-Forwarded-For header a trusted proxy would set). */
  subscriberWsOptions?: (n: number) => ClientOptions;
  /** Per-attempt timeout of a send. */
  requestTimeoutMs?: number;
}

interface Ack {
  roomId: string;
  seq: number;
}

/** One REST attempt's outcome: the status code, or "refused"/"network"/"timeout". */
type Outcome = string;

class Subscriber {
  readonly last = new Map<string, number>();
  readonly received = new Map<string, Set<number>>();
  duplicated = 0;
  outOfOrder = 0;
  reconnects = 0;
  /** The backoff delays chosen before each reconnect (ms). */
  readonly reconnectDelays: number[] = [];
  connected = false;
  readonly closeCodes = new Map<number, number>();
  /** Longest time between two messages received (ms), and between losing and regaining a subscription. */
  longestGapMs = 0;
  longestDisconnectMs = 0;
  private lastArrival: number | undefined;
  private disconnectedAt: number | undefined;
  private socket: WebSocket | undefined;
  private attempt = 0;
  private targetIndex = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  readonly subscribed = new Set<string>();

  constructor(
    private readonly token: string,
    private readonly rooms: string[],
    private readonly targets: () => string[],
    private readonly wsOptions: LoadOptions["wsOptions"],
  ) {
    for (const room of rooms) {
      this.last.set(room, 0);
      this.received.set(room, new Set());
    }
  }

  get instance(): string | undefined {
    return this.currentInstance;
  }

  private currentInstance: string | undefined;

  start(): void {
    const list = this.targets();
    const base = list[this.targetIndex % list.length]!;
    const socket = new WebSocket(`${base}/ws?token=${encodeURIComponent(this.token)}`, this.wsOptions);
    this.socket = socket;
    socket.on("message", (data: Buffer) =>
      this.onFrame(socket, JSON.parse(data.toString()) as Record<string, unknown>),
    );
    socket.on("error", () => undefined);
    socket.on("close", (code: number) => {
      this.connected = false;
      this.subscribed.clear();
      this.disconnectedAt ??= Date.now();
      this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
      if (this.stopped) return;
      // Full jitter: a random delay up to the exponential cap, so many clients spread out.
      this.attempt++;
      if (this.attempt > 1) this.targetIndex++;
      const cap = Math.min(2000, 100 * 2 ** this.attempt);
      this.reconnects++;
      const delay = Math.random() * cap;
      this.reconnectDelays.push(delay);
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  private onFrame(socket: WebSocket, frame: Record<string, unknown>): void {
    switch (frame.type) {
      case "ready":
        this.connected = true;
        this.currentInstance = String(frame.instance);
        for (const room of this.rooms) this.subscribe(socket, room);
        break;
      case "subscribed":
        this.attempt = 0;
        this.subscribed.add(String(frame.room_id));
        if (this.disconnectedAt !== undefined && this.subscribed.size === this.rooms.length) {
          this.longestDisconnectMs = Math.max(this.longestDisconnectMs, Date.now() - this.disconnectedAt);
          this.disconnectedAt = undefined;
        }
        break;
      case "message": {
        const message = frame.message as { room_id: string; seq: number };
        this.onMessage(message.room_id, message.seq);
        break;
      }
      case "error": {
        // A subscribe refused while a dependency is down: try again shortly on the same socket.
        const ref = typeof frame.ref === "string" ? frame.ref : "";
        if (ref.startsWith("sub:")) {
          setTimeout(
            () => {
              if (socket.readyState === WebSocket.OPEN) this.subscribe(socket, ref.slice(4));
            },
            200 + Math.random() * 300,
          );
        }
        break;
      }
    }
  }

  private subscribe(socket: WebSocket, room: string): void {
    socket.send(
      JSON.stringify({
        type: "subscribe",
        room_id: room,
        after_seq: this.last.get(room),
        ref: `sub:${room}`,
      }),
    );
  }

  private onMessage(room: string, seq: number): void {
    const now = Date.now();
    if (this.lastArrival !== undefined)
      this.longestGapMs = Math.max(this.longestGapMs, now - this.lastArrival);
    this.lastArrival = now;
    const last = this.last.get(room) ?? 0;
    const got = this.received.get(room)!;
    if (got.has(seq)) {
      this.duplicated++;
      return;
    }
    if (seq !== last + 1) this.outOfOrder++;
    got.add(seq);
    if (seq > last) this.last.set(room, seq);
  }

  caughtUp(heads: Map<string, number>): boolean {
    return [...heads].every(([room, head]) => (this.last.get(room) ?? 0) >= head);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.terminate();
  }
}

export interface LoadReport {
  sent: number;
  acked: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Every REST attempt by outcome (status code, "refused" at connect, "network" = cut, "timeout"). */
  outcomes: Record<string, number>;
  /** Stored messages (acked or not) some subscriber never got. */
  missedStored: number;
  /** Acked messages missing from PostgreSQL, or stored under another seq than acked. */
  ackedNotStored: number;
  /** client_msg_ids stored more than once. */
  storedTwice: number;
  /** Rooms whose seqs are not 1..last_seq without gaps. */
  roomsWithGaps: number;
  /** A retry's ack named another seq than the first ack of the same client_msg_id. */
  ackMismatch: number;
  reconnects: number;
  closeCodes: Record<string, number>;
  /** Sends given up after their retry budget (never acked). */
  abandoned: number;
  /** Requests that did not succeed (non-2xx, cut, refused, timed out), by kind; each retry counts. */
  failedRequests: { send: number; plainSend: number; read: number };
  /** Requests made, by kind. */
  requests: { send: number; plainSend: number; read: number };
  /** Sends without client_msg_id that were acked (also counted in acked and lost). */
  plainAcked: number;
  /** The longest time one subscriber went without a message (ms), and without its subscription. */
  longestGapMs: number;
  longestDisconnectMs: number;
}

type Kind = "send" | "plainSend" | "read";

/**
 * A request that got no answer: "timeout", "refused" (failed while connecting, or reset in the
 * listen backlog as the listener closed: nothing was sent, safe to try elsewhere) or "network"
 * (cut after the request went out).
 */
function failureOf(error: unknown): Outcome {
  const name = (error as Error).name;
  if (name === "TimeoutError" || name === "AbortError") return "timeout";
  const cause = (error as { cause?: { code?: string; syscall?: string } }).cause;
  return cause?.code === "ECONNREFUSED" || cause?.syscall === "connect" ? "refused" : "network";
}
const ok = (outcome: Outcome) => outcome === "200" || outcome === "201";

export class Load {
  private readonly subscribers: Subscriber[] = [];
  private readonly acks = new Map<string, Ack>();
  private readonly outcomes = new Map<Outcome, number>();
  private readonly attemptsLog: {
    startedAt: number;
    at: number;
    base: string;
    outcome: Outcome;
    kind: Kind;
  }[] = [];
  /** Acks of sends without client_msg_id. */
  private readonly plainAcks: Ack[] = [];
  private sent = 0;
  /** The first body seen for each non-2xx status (to check error envelopes). */
  readonly errorSamples = new Map<string, string>();
  private ackMismatch = 0;
  private abandoned = 0;
  private stopping = false;
  private senders: Promise<void>[] = [];

  constructor(private readonly options: LoadOptions) {}

  /** Starts subscribers, waits until every one is subscribed, then starts the senders and readers. */
  async start(): Promise<void> {
    const { tenant, senders, subscribers } = this.options;
    const plain = this.options.plainSenders ?? 0;
    if (tenant.users.length < senders + subscribers + plain) throw new Error("the tenant has too few users");
    for (let n = 0; n < subscribers; n++) {
      const extra = this.options.subscriberWsOptions?.(n);
      const sub = new Subscriber(
        tenant.users[senders + n]!.token,
        tenant.rooms,
        () => this.options.subscriberTargets(n),
        extra
          ? {
              ...this.options.wsOptions,
              ...extra,
              headers: { ...this.options.wsOptions?.headers, ...extra.headers },
            }
          : this.options.wsOptions,
      );
      this.subscribers.push(sub);
      sub.start();
    }
    await this.waitSubscribed(30_000);
    for (let s = 0; s < senders; s++) this.senders.push(this.sender(s));
    for (let p = 0; p < plain; p++) this.senders.push(this.plainSender(senders + subscribers + p));
    for (let r = 0; r < (this.options.readers ?? 0); r++) this.senders.push(this.reader(r));
  }

  /** True when every subscriber has a live subscription to every room. */
  allSubscribed(): boolean {
    return this.subscribers.every(
      (s) => s.connected && s.subscribed.size === this.options.tenant.rooms.length,
    );
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

  /** Every backoff delay the subscribers chose before reconnecting (ms). */
  reconnectDelays(): number[] {
    return this.subscribers.flatMap((s) => s.reconnectDelays);
  }

  /** Acks so far (to wait for traffic to flow again after a fault). */
  get ackedCount(): number {
    return this.acks.size;
  }

  private record(startedAt: number, base: string, outcome: Outcome, kind: Kind = "send"): void {
    if (kind === "send") this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    this.attemptsLog.push({ startedAt, at: Date.now(), base, outcome, kind });
  }

  /** Sends without client_msg_id: one attempt each; what fails is not retried (it could be stored). */
  private async plainSender(user: number): Promise<void> {
    const { tenant, ratePerSender } = this.options;
    const token = tenant.users[user]!.token;
    for (let n = 0; !this.stopping; n++) {
      const started = Date.now();
      const roomId = tenant.rooms[(n + user) % tenant.rooms.length]!;
      const targets = this.options.senderTargets();
      const base = targets[(n + user) % targets.length]!;
      this.sent++;
      const outcome = await this.post(base, token, roomId, undefined, `plain ${user}/${n}`);
      this.record(started, base, outcome.outcome, "plainSend");
      if (outcome.message) this.plainAcks.push({ roomId, seq: outcome.message.seq });
      const wait = 1000 / ratePerSender - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
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
      let outcome: Outcome;
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
      }
      this.record(started, base, outcome, "read");
      const wait = interval - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
  }

  private async sender(index: number): Promise<void> {
    const { tenant, ratePerSender } = this.options;
    const token = tenant.users[index]!.token;
    const interval = 1000 / ratePerSender;
    let target = index;
    for (let n = 0; !this.stopping; n++) {
      const started = Date.now();
      const roomId = tenant.rooms[(n + index) % tenant.rooms.length]!;
      const clientMsgId = randomUUID();
      this.sent++;
      // The same client_msg_id until acked; give up only well after the load stopped.
      let giveUpAt = Infinity;
      for (let attempt = 0; ; attempt++) {
        if (this.stopping && giveUpAt === Infinity) giveUpAt = Date.now() + 60_000;
        if (Date.now() > giveUpAt) {
          this.abandoned++;
          break;
        }
        const targets = this.options.senderTargets();
        const base = targets[target % targets.length]!;
        const attemptStart = Date.now();
        const outcome = await this.post(base, token, roomId, clientMsgId, `chaos ${index}/${n}`);
        this.record(attemptStart, base, outcome.outcome);
        if (outcome.message) {
          const earlier = this.acks.get(clientMsgId);
          if (earlier && earlier.seq !== outcome.message.seq) this.ackMismatch++;
          this.acks.set(clientMsgId, { roomId, seq: outcome.message.seq });
          break;
        }
        if (outcome.permanent) {
          this.abandoned++;
          break;
        }
        target++;
        await sleep(Math.random() * Math.min(1000, 50 * 2 ** attempt));
      }
      const wait = interval - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
  }

  private async post(
    base: string,
    token: string,
    roomId: string,
    clientMsgId: string | undefined,
    body: string,
  ): Promise<{ outcome: Outcome; message?: { seq: number }; permanent?: boolean }> {
    try {
      const response = await (this.options.fetch ?? fetch)(`${base}/api/v1/rooms/${roomId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(clientMsgId ? { body, client_msg_id: clientMsgId } : { body }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 5000),
      });
      const text = await response.text();
      const outcome = String(response.status);
      if (response.status === 200 || response.status === 201) {
        return { outcome, message: JSON.parse(text) as { seq: number } };
      }
      if (!this.errorSamples.has(outcome)) this.errorSamples.set(outcome, text.slice(0, 500));
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      return { outcome, permanent: !retryable };
    } catch (error) {
      const outcome = failureOf(error);
      const cause = (error as { cause?: { code?: string } }).cause;
      if (outcome !== "timeout" && !this.errorSamples.has(outcome)) {
        this.errorSamples.set(
          outcome,
          `${(error as Error).message}: ${cause?.code ?? ""} ${String(cause)}`.slice(0, 300),
        );
      }
      return { outcome };
    }
  }

  /** Stops the senders, waits (bounded) for subscribers to catch up, and counts. */
  async finish(catchUpMs = 30_000): Promise<LoadReport> {
    this.stopping = true;
    await Promise.all(this.senders);
    const rooms = this.options.tenant.rooms;
    const rows = await this.storedMessages(rooms);
    const heads = new Map<string, number>(rooms.map((r) => [r, 0]));
    const perRoom = new Map<string, number>(rooms.map((r) => [r, 0]));
    const stored = new Map<string, { roomId: string; seq: number; count: number }>();
    for (const row of rows) {
      const seq = Number(row.seq);
      heads.set(row.room_id, Math.max(heads.get(row.room_id) ?? 0, seq));
      perRoom.set(row.room_id, (perRoom.get(row.room_id) ?? 0) + 1);
      if (row.client_msg_id) {
        const s = stored.get(row.client_msg_id);
        stored.set(row.client_msg_id, { roomId: row.room_id, seq, count: (s?.count ?? 0) + 1 });
      }
    }
    const deadline = Date.now() + catchUpMs;
    while (!this.subscribers.every((s) => s.caughtUp(heads)) && Date.now() < deadline) await sleep(100);
    for (const s of this.subscribers) s.stop();

    let ackedNotStored = 0;
    let lost = 0;
    for (const [id, ack] of this.acks) {
      const s = stored.get(id);
      const inDb = s !== undefined && s.seq === ack.seq && s.roomId === ack.roomId;
      if (!inDb) ackedNotStored++;
      if (!inDb || this.subscribers.some((sub) => !sub.received.get(ack.roomId)!.has(ack.seq))) lost++;
    }
    // Acked without client_msg_id: in PostgreSQL under its seq, and delivered to every subscriber.
    const storedSeqs = new Set(rows.map((row) => `${row.room_id}:${Number(row.seq)}`));
    for (const ack of this.plainAcks) {
      const inDb = storedSeqs.has(`${ack.roomId}:${ack.seq}`);
      if (!inDb) ackedNotStored++;
      if (!inDb || this.subscribers.some((sub) => !sub.received.get(ack.roomId)!.has(ack.seq))) lost++;
    }
    const count = (filter: (a: { kind: Kind; outcome: Outcome }) => boolean) => {
      const by = { send: 0, plainSend: 0, read: 0 };
      for (const a of this.attemptsLog) if (filter(a)) by[a.kind]++;
      return by;
    };
    let missedStored = 0;
    for (const row of rows) {
      if (this.subscribers.some((sub) => !sub.received.get(row.room_id)!.has(Number(row.seq))))
        missedStored++;
    }
    const closeCodes: Record<string, number> = {};
    for (const s of this.subscribers)
      for (const [code, n] of s.closeCodes) closeCodes[code] = (closeCodes[code] ?? 0) + n;
    return {
      sent: this.sent,
      acked: this.acks.size + this.plainAcks.length,
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
      failedRequests: count((a) => !ok(a.outcome)),
      requests: count(() => true),
      plainAcked: this.plainAcks.length,
      longestGapMs: Math.max(0, ...this.subscribers.map((sub) => sub.longestGapMs)),
      longestDisconnectMs: Math.max(0, ...this.subscribers.map((sub) => sub.longestDisconnectMs)),
    };
  }

  /** Every stored message of the rooms (retried: the pool may hold connections a restart broke). */
  private async storedMessages(rooms: string[]) {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.options.storedMessages) return await this.options.storedMessages(rooms);
        if (!this.options.pool) throw new Error("the load needs a pool or storedMessages to count");
        const { rows } = await this.options.pool.query<{
          room_id: string;
          seq: string;
          client_msg_id: string | null;
        }>("SELECT room_id, seq, client_msg_id FROM messages WHERE room_id = ANY($1::uuid[])", [rooms]);
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
  }
}
