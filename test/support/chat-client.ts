// A client of a deployed ChatAPI (API.md) through its load balancer over TLS verified against a
// given CA, for tests that reach a stack on 127.0.0.1 (e.g. through kubectl port-forward): REST
// calls, WebSocket connections, and a subscriber that reconnects and resubscribes from the last
// seq it saw, the way API.md tells clients to. `forwardedFor` names the client address nginx
// hashes WebSockets on when the first hop is a trusted proxy (chatapi:nginx.trustedProxies).
import { Agent, request } from "node:https";
import WebSocket from "ws";
import type { ChatMessage } from "../../toolbox/chat-client";

export interface ChatEndpoint {
  /** Local port that reaches nginx's HTTPS listener. */
  port: number;
  /** The stack's domain: TLS server name and Host header. */
  domain: string;
  /** PEM the server certificate must chain to. */
  ca: string;
  apiPrefix: string;
  /**
   * Awaited before each request: e.g. until a restarted `kubectl port-forward` forwards again.
   * A request refused on connect (never sent) is then tried again, at most 5 times.
   */
  ready?: () => Promise<void>;
}

/** A connection refused before anything was sent: safe to try again, whatever the method. */
const neverSent = (error: unknown) => (error as NodeJS.ErrnoException).code === "ECONNREFUSED";

export interface Credentials {
  apiKey?: string;
  token?: string;
  forwardedFor?: string;
}

export interface RestResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  /** Negotiated TLS version, e.g. TLSv1.3. */
  tls: string | null;
}

export class ChatClient {
  /**
   * Keep-alive connections, closed by the client after 5 s idle (before nginx's 65 s): a
   * connection closed per request races the client's TLS close_notify against nginx's close,
   * and the reset that can follow ends a `kubectl port-forward` with every connection on it.
   */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8, timeout: 5_000 });

  constructor(readonly endpoint: ChatEndpoint) {}

  /** Closes the pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  private headers(credentials: Credentials): Record<string, string> {
    return {
      host: `${this.endpoint.domain}:${this.endpoint.port}`,
      ...(credentials.apiKey ? { "x-api-key": credentials.apiKey } : {}),
      ...(credentials.token ? { authorization: `Bearer ${credentials.token}` } : {}),
      ...(credentials.forwardedFor ? { "x-forwarded-for": credentials.forwardedFor } : {}),
    };
  }

  /** One HTTPS request to nginx (a path outside the API prefix when it starts with "/"). */
  async raw<T = unknown>(
    method: string,
    path: string,
    credentials: Credentials = {},
    body?: unknown,
  ): Promise<RestResponse<T>> {
    for (let attempt = 1; ; attempt++) {
      await this.endpoint.ready?.();
      try {
        return await this.once<T>(method, path, credentials, body);
      } catch (error) {
        if (!neverSent(error) || attempt >= 5) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private once<T>(method: string, path: string, credentials: Credentials, body?: unknown) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<RestResponse<T>>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: this.endpoint.port,
          servername: this.endpoint.domain,
          ca: this.endpoint.ca,
          method,
          path,
          agent: this.agent,
          timeout: 30_000,
          headers: {
            ...this.headers(credentials),
            ...(payload ? { "content-type": "application/json" } : {}),
          },
        },
        (res) => {
          // Read now: with keep-alive the socket goes back to the pool once the body has ended.
          const tls = (res.socket as { getProtocol?: () => string | null }).getProtocol?.() ?? null;
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON (e.g. an nginx error page)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T, text, headers: res.headers, tls });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** A call under the API prefix that must answer `expected`; throws with the answer otherwise. */
  async api<T = Record<string, unknown>>(
    method: string,
    path: string,
    credentials: Credentials,
    body?: unknown,
    expected: number[] = [200, 201, 204],
  ): Promise<T> {
    const res = await this.raw<T>(method, `${this.endpoint.apiPrefix}${path}`, credentials, body);
    if (!expected.includes(res.status))
      throw new Error(`${method} ${path}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
    return res.body;
  }

  /** Opens /ws and resolves with the socket and the API instance named in its `ready` frame. */
  async openSocket(token: string, forwardedFor?: string): Promise<{ socket: WebSocket; instance: string }> {
    for (let attempt = 1; ; attempt++) {
      await this.endpoint.ready?.();
      try {
        return await this.openSocketOnce(token, forwardedFor);
      } catch (error) {
        if (!neverSent(error) || attempt >= 5) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private openSocketOnce(
    token: string,
    forwardedFor?: string,
  ): Promise<{ socket: WebSocket; instance: string }> {
    const url = `wss://127.0.0.1:${this.endpoint.port}/ws?token=${encodeURIComponent(token)}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        ca: this.endpoint.ca,
        // ws passes it on to tls.connect (SNI and the name checked), though its types omit it
        ...({ servername: this.endpoint.domain } as WebSocket.ClientOptions),
        headers: this.headers({ ...(forwardedFor ? { forwardedFor } : {}) }),
        handshakeTimeout: 15_000,
      });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error("no ready frame within 15 s"));
      }, 15_000);
      socket.once("message", (data) => {
        clearTimeout(timer);
        const frame = JSON.parse(data.toString()) as { type: string; instance?: string };
        if (frame.type !== "ready") reject(new Error(`first frame was ${data.toString()}`));
        else resolve({ socket, instance: String(frame.instance) });
      });
      socket.once("unexpected-response", (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`WebSocket upgrade answered HTTP ${res.statusCode}`));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}

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
  private socket: WebSocket | undefined;
  private stopped = false;
  private lastSeq = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: ChatClient,
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
    const { socket, instance } = await this.client.openSocket(this.token(), this.forwardedFor);
    this.instances.push(instance);
    this.socket = socket;
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", (error) => this.errors.push(String(error)));
    const subscribed = new Promise<void>((resolve, reject) => {
      socket.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as {
          type: string;
          room_id?: string;
          message?: ChatMessage;
        };
        if (frame.type === "subscribed" && frame.room_id === this.roomId) resolve();
        if (frame.type === "message" && frame.message?.room_id === this.roomId) {
          this.seqs.push(frame.message.seq);
          this.lastSeq = Math.max(this.lastSeq, frame.message.seq);
        }
      });
      closed.then(() => reject(new Error("closed before the subscription was confirmed")));
    });
    socket.send(JSON.stringify({ type: "subscribe", room_id: this.roomId, after_seq: this.lastSeq }));
    await subscribed;
    this.closed = closed;
  }

  private closed: Promise<void> | undefined;

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.closed;
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
    private readonly client: ChatClient,
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
    const path = `${this.client.endpoint.apiPrefix}/rooms/${this.roomId}/messages`;
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

export interface Frame {
  type: string;
  [key: string]: unknown;
}

/** An open WebSocket that records its frames, for request/answer steps. */
export class FrameSocket {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];

  constructor(
    readonly socket: WebSocket,
    readonly instance: string,
  ) {
    socket.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on("close", () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(frame: Frame): void {
    this.socket.send(JSON.stringify(frame));
  }

  async waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`socket on ${this.instance} closed`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching frame within ${timeoutMs} ms; last: ${JSON.stringify(this.frames.slice(-3))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Drops the connection (TCP close, no close handshake): a client-initiated close handshake
   * races the client's last bytes against nginx closing the connection, and the reset that can
   * follow ends a `kubectl port-forward` with every connection on it.
   */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.terminate();
    });
  }
}
