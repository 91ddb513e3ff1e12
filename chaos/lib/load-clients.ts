// The load's clients: a subscriber (WebSocket, reconnects with backoff and full jitter, resumes
// with after_seq, stops following a room it was removed from), a WebSocket sender, and one REST
// send attempt. Each reports what it saw; chaos/lib/load.ts does the bookkeeping.
import type { RequestOptions } from "node:https";
import WebSocket, { type ClientOptions } from "ws";

export type WsOptions = ClientOptions & Pick<RequestOptions, "servername">;

/** One send attempt's outcome: the status code, or "refused" (nothing sent), "network", "timeout". */
export interface Attempt {
  outcome: string;
  message?: { seq: number };
  /** A definite refusal (4xx other than 408/429): retrying would not help. */
  permanent?: boolean;
  /** The first body seen for this outcome (to check error envelopes). */
  sample?: string;
}

/** Outcomes after which nothing reached the server: even a non-idempotent send may be retried. */
export const NOTHING_SENT = new Set(["refused", "not sent"]);

/** A subscriber removed from a room: what it must and must not get there. */
export interface Removal {
  room: string;
  /** The room's last_seq just before the removal: everything up to here is owed to it. */
  before: number;
  /** The room's last_seq just after the removal was answered: nothing above may reach it. */
  after: number;
}

export class Subscriber {
  readonly last = new Map<string, number>();
  readonly received = new Map<string, Set<number>>();
  duplicated = 0;
  outOfOrder = 0;
  reconnects = 0;
  /** When each reconnection's `ready` arrived (ms epoch): what the servers saw, jitter included. */
  readonly reconnectArrivals: number[] = [];
  connected = false;
  readonly closeCodes = new Map<number, number>();
  /** Rooms it was removed from (an `unsubscribed` frame, or a resubscribe answered 404). */
  readonly left = new Set<string>();
  removal: Removal | undefined;
  readonly subscribed = new Set<string>();
  /** Longest time between two messages received (ms), and between losing and regaining every subscription. */
  longestGapMs = 0;
  longestDisconnectMs = 0;
  private lastArrival: number | undefined;
  private disconnectedAt: number | undefined;
  private socket: WebSocket | undefined;
  private attempt = 0;
  private targetIndex = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private everReady = false;
  private currentInstance: string | undefined;

  constructor(
    readonly userId: string,
    private readonly token: string,
    readonly rooms: string[],
    private readonly targets: () => string[],
    private readonly wsOptions: WsOptions | undefined,
  ) {
    for (const room of rooms) {
      this.last.set(room, 0);
      this.received.set(room, new Set());
    }
  }

  get instance(): string | undefined {
    return this.currentInstance;
  }

  /** Rooms it should be subscribed to now. */
  get following(): number {
    return this.rooms.length - this.left.size;
  }

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
      this.timer = setTimeout(() => this.start(), Math.random() * cap);
    });
  }

  private onFrame(socket: WebSocket, frame: Record<string, unknown>): void {
    switch (frame.type) {
      case "ready":
        this.connected = true;
        if (this.everReady) this.reconnectArrivals.push(Date.now());
        this.everReady = true;
        this.currentInstance = String(frame.instance);
        for (const room of this.rooms) if (!this.left.has(room)) this.subscribe(socket, room);
        break;
      case "subscribed":
        this.attempt = 0;
        this.subscribed.add(String(frame.room_id));
        if (this.disconnectedAt !== undefined && this.subscribed.size === this.following) {
          this.longestDisconnectMs = Math.max(this.longestDisconnectMs, Date.now() - this.disconnectedAt);
          this.disconnectedAt = undefined;
        }
        break;
      case "unsubscribed":
        this.subscribed.delete(String(frame.room_id));
        if (frame.reason === "removed") this.left.add(String(frame.room_id));
        break;
      case "message": {
        const message = frame.message as { room_id: string; seq: number };
        this.onMessage(message.room_id, message.seq);
        break;
      }
      case "error": {
        const ref = typeof frame.ref === "string" ? frame.ref : "";
        if (!ref.startsWith("sub:")) break;
        const room = ref.slice(4);
        // Not (or no longer) a member: stop following it. Anything else (a dependency down):
        // try again shortly on the same socket.
        if (frame.code === "room_not_found") {
          this.left.add(room);
          break;
        }
        setTimeout(
          () => {
            if (socket.readyState === WebSocket.OPEN && !this.left.has(room)) this.subscribe(socket, room);
          },
          200 + Math.random() * 300,
        );
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

  /** Whether it should hold `seq` of `room` (everything, but only up to its removal there). */
  owes(room: string, seq: number): boolean {
    return this.removal?.room !== room || seq <= this.removal.before;
  }

  caughtUp(heads: Map<string, number>): boolean {
    return [...heads].every(([room, head]) => {
      const due = this.removal?.room === room ? Math.min(head, this.removal.before) : head;
      return (this.last.get(room) ?? 0) >= due;
    });
  }

  /** Messages of its removal's room committed after the removal that still reached it. */
  deliveredAfterRemoval(): number {
    if (!this.removal) return 0;
    const { room, after } = this.removal;
    return [...this.received.get(room)!].filter((seq) => seq > after).length;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.terminate();
  }
}

/** A sender over its own WebSocket: one send in flight, answered by its ack or error frame. */
export class WsSender {
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private targetIndex = 0;
  private waiter: ((frame: Record<string, unknown> | undefined) => void) | undefined;

  constructor(
    private readonly token: string,
    private readonly targets: () => string[],
    private readonly wsOptions: WsOptions | undefined,
  ) {}

  async send(
    roomId: string,
    body: string,
    clientMsgId: string | undefined,
    timeoutMs: number,
  ): Promise<Attempt> {
    let socket: WebSocket;
    try {
      socket = await this.open(timeoutMs);
    } catch {
      this.targetIndex++;
      return { outcome: "refused" };
    }
    const ref = `send:${body}`;
    const answer = new Promise<Record<string, unknown> | undefined>((resolve) => {
      const timer = setTimeout(() => resolve({ type: "timeout" }), timeoutMs);
      this.waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
    });
    const frame = {
      type: "send",
      room_id: roomId,
      body,
      ref,
      ...(clientMsgId ? { client_msg_id: clientMsgId } : {}),
    };
    if (socket.readyState !== WebSocket.OPEN) return { outcome: "not sent" };
    socket.send(JSON.stringify(frame));
    const reply = await answer;
    this.waiter = undefined;
    if (reply === undefined) {
      this.targetIndex++;
      return { outcome: "network" }; // closed with the send unanswered
    }
    if (reply.type === "timeout") {
      socket.terminate();
      return { outcome: "timeout" };
    }
    if (reply.type === "ack") return { outcome: "ack", message: reply.message as { seq: number } };
    const code = String(reply.code ?? "error");
    const retryable = ["database_unavailable", "internal_error", "shutting_down", "rate_limited"].includes(
      code,
    );
    return { outcome: `ws ${code}`, permanent: !retryable, sample: JSON.stringify(reply).slice(0, 500) };
  }

  private open(timeoutMs: number): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const list = this.targets();
      const base = list[this.targetIndex % list.length]!;
      const socket = new WebSocket(`${base}/ws?token=${encodeURIComponent(this.token)}`, {
        ...this.wsOptions,
        handshakeTimeout: timeoutMs,
      });
      socket.on("error", () => undefined);
      socket.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Record<string, unknown>;
        if (frame.type === "ready") resolve(socket);
        // One send in flight: the next ack, or an error naming its ref, answers it.
        else if (
          frame.type === "ack" ||
          (frame.type === "error" && String(frame.ref ?? "").startsWith("send:"))
        )
          this.waiter?.(frame);
      });
      socket.on("close", () => {
        reject(new Error("closed before ready"));
        this.waiter?.(undefined);
      });
      this.socket = socket;
    }).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  stop(): void {
    this.socket?.terminate();
  }
}

/**
 * A request that got no answer: "timeout", "refused" (failed while connecting, or reset in the
 * listen backlog as the listener closed: nothing was sent, safe to try elsewhere) or "network"
 * (cut after the request went out).
 */
export function failureOf(error: unknown): string {
  const name = (error as Error).name;
  if (name === "TimeoutError" || name === "AbortError") return "timeout";
  const cause = (error as { cause?: { code?: string; syscall?: string } }).cause;
  return cause?.code === "ECONNREFUSED" || cause?.syscall === "connect" ? "refused" : "network";
}

/** One REST send attempt (`fetchImpl`: e.g. one whose dispatcher trusts a stack's CA). */
export async function postMessage(
  base: string,
  token: string,
  roomId: string,
  body: string,
  clientMsgId: string | undefined,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<Attempt> {
  try {
    const response = await fetchImpl(`${base}/api/v1/rooms/${roomId}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ body, ...(clientMsgId ? { client_msg_id: clientMsgId } : {}) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const outcome = String(response.status);
    if (response.status === 200 || response.status === 201) {
      return { outcome, message: JSON.parse(text) as { seq: number } };
    }
    const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
    return { outcome, permanent: !retryable, sample: text.slice(0, 500) };
  } catch (error) {
    const outcome = failureOf(error);
    if (outcome === "timeout") return { outcome };
    const cause = (error as { cause?: { code?: string } }).cause;
    return {
      outcome,
      sample: `${(error as Error).message}: ${cause?.code ?? ""} ${String(cause)}`.slice(0, 300),
    };
  }
}
