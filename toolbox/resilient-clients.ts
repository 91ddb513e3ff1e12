// Clients that ride out pods and containers going away, the way API.md tells clients to: a
// subscriber that reconnects and resubscribes from the last seq it saw, and a sender that retries
// each message with its client_msg_id until it is stored (exactly once). Tests of rolling
// updates, renewals and restores count what they saw.
import type { ChatMessage, ChatSocket } from "./chat-client";
import type { Credentials, RestResponse, StackClient } from "./stack-client";

/**
 * A room subscriber that stays subscribed: when its connection closes (a pod going away, a
 * rolling update) it reconnects and resubscribes with the last seq it saw. Records every seq it
 * received and every API instance it was on.
 */
export class ResilientSubscriber {
  readonly seqs: number[] = [];
  readonly instances: string[] = [];
  reconnects = 0;
  readonly errors: string[] = [];
  private socket: ChatSocket | undefined;
  private stopped = false;
  private lastSeq = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: StackClient,
    private readonly token: () => string,
    readonly roomId: string,
    readonly forwardedFor: string,
  ) {}

  get instance(): string | undefined {
    return this.instances.at(-1);
  }

  /** Connects and subscribes; resolves once the first subscription is confirmed. */
  async start(): Promise<void> {
    await this.connectOnce();
    this.running = this.loop();
  }

  private async connectOnce(): Promise<void> {
    const socket = await this.client.openSocket(this.token(), this.forwardedFor);
    this.instances.push(socket.instance);
    this.socket = socket;
    socket.ws.on("error", (error) => this.errors.push(String(error)));
    socket.onFrame((frame) => {
      const message = frame.message as ChatMessage | undefined;
      if (frame.type !== "message" || message?.room_id !== this.roomId) return;
      this.seqs.push(message.seq);
      this.lastSeq = Math.max(this.lastSeq, message.seq);
    });
    const from = socket.frames.length;
    socket.send({ type: "subscribe", room_id: this.roomId, after_seq: this.lastSeq });
    const subscribed = await socket.next(
      (f) => f.type === "subscribed" && f.room_id === this.roomId,
      from,
      15_000,
    );
    if (!subscribed) {
      socket.terminate();
      throw new Error(
        socket.closeCode === undefined
          ? "no subscribed frame within 15 s"
          : "closed before the subscription was confirmed",
      );
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.socket?.closed;
      if (this.stopped) return;
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          await this.connectOnce();
          this.reconnects++;
          break;
        } catch (error) {
          this.errors.push(`reconnect ${attempt}: ${String(error)}`);
          await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2000)));
        }
      }
    }
  }

  /** Waits until every seq up to `last` has arrived (bounded). */
  async waitForSeq(last: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastSeq < last) {
      if (Date.now() > deadline)
        throw new Error(
          `subscriber ${this.forwardedFor} saw seq ${this.lastSeq} of ${last} after ${timeoutMs} ms; errors: ${this.errors.slice(-5).join("; ")}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.socket?.terminate();
    await this.running?.catch(() => undefined);
  }
}

/**
 * Sends numbered messages to a room over REST, one after another, until told to stop. Each is
 * retried with its client_msg_id until the API answers (a retry after a lost answer returns the
 * stored message, API.md), so every message is stored exactly once whatever happens to the pods.
 */
export class MessageSender {
  readonly seqs: number[] = [];
  retries = 0;
  readonly failures: string[] = [];
  private stopAfter: number | undefined;
  private done: Promise<void> | undefined;

  constructor(
    private readonly client: StackClient,
    private readonly credentials: Credentials,
    readonly roomId: string,
    readonly label: string,
    private readonly pauseMs = 150,
  ) {}

  get sent(): number {
    return this.seqs.length;
  }

  start(): void {
    this.done = this.loop();
  }

  /** Sends `more` further messages, then resolves with every seq sent. */
  async stop(more = 0): Promise<number[]> {
    this.stopAfter = this.sent + more;
    await this.done;
    return this.seqs;
  }

  /** Resolves once `count` messages in all were stored. */
  async waitUntilSent(count: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sent < count) {
      if (Date.now() > deadline)
        throw new Error(
          `only ${this.sent} of ${count} messages were sent: ${this.failures.slice(-3).join("; ")}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async loop(): Promise<void> {
    for (let i = 1; this.stopAfter === undefined || this.sent < this.stopAfter; i++) {
      this.seqs.push(await this.sendOne(i));
      await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }

  private async sendOne(i: number): Promise<number> {
    const body = { body: `${this.label} ${i}`, client_msg_id: `${this.label}-${i}` };
    const path = `${this.client.apiPrefix}/rooms/${this.roomId}/messages`;
    for (let attempt = 1; attempt <= 120; attempt++) {
      let res: RestResponse<ChatMessage> | undefined;
      try {
        res = await this.client.raw<ChatMessage>("POST", path, this.credentials, body);
      } catch (error) {
        this.failures.push(`message ${i}: ${String(error)}`);
      }
      if (res && (res.status === 200 || res.status === 201)) return res.body.seq;
      // 4xx other than 429 is a bug in the test or the API, not a pod going away
      if (res && res.status >= 400 && res.status < 500 && res.status !== 429)
        throw new Error(`message ${i}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
      if (res) this.failures.push(`message ${i}: HTTP ${res.status}`);
      this.retries++;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`message ${i} was not stored after 120 attempts: ${this.failures.slice(-3).join("; ")}`);
  }
}
