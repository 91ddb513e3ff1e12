// The chat service's client for tests, chaos and benchmarks run by hand: REST calls and tenant
// fixtures, and a WebSocket that records every frame and lets callers wait for the ones they
// expect (shared/API.md is the contract).
import WebSocket, { type ClientOptions } from "ws";

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface CallOptions {
  apiKey?: string;
  token?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
}

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
    headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

export const API = "/api/v1";

export interface TenantUser {
  id: string;
  token: string;
  refresh: string;
}

export interface Tenant {
  clientId: string;
  apiKey: string;
  newUser(externalId: string): Promise<TenantUser>;
}

function expect2xx(what: string, reply: Reply<unknown>): void {
  if (reply.status >= 300) throw new Error(`${what}: ${reply.status} ${reply.text}`);
}

/** A client (made with the admin key) that can create users and get their tokens. */
export async function createTenant(base: string, adminKey: string, label: string): Promise<Tenant> {
  const client = await call<{ id: string; api_key: string }>(base, "POST", `${API}/clients`, {
    apiKey: adminKey,
    body: { name: `tenant ${label}`, email: `${label}-${Math.random().toString(36).slice(2)}@example.com` },
  });
  expect2xx("creating a client", client);
  const apiKey = client.body.api_key;
  return {
    clientId: client.body.id,
    apiKey,
    newUser: async (externalId) => {
      const user = await call<{ id: string }>(base, "POST", `${API}/users`, {
        apiKey,
        body: { external_id: externalId, display_name: externalId },
      });
      expect2xx("creating a user", user);
      const pair = await call<{ access_token: string; refresh_token: string }>(
        base,
        "POST",
        `${API}/auth/token`,
        {
          apiKey,
          body: { user_id: user.body.id },
        },
      );
      expect2xx("getting tokens", pair);
      return { id: user.body.id, token: pair.body.access_token, refresh: pair.body.refresh_token };
    },
  };
}

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface ChatMessage {
  id: string;
  room_id: string;
  seq: number;
  body: string;
  sender_id: string;
  client_msg_id: string | null;
}

export interface MessageFrame extends Frame {
  message: ChatMessage;
}

/** Records every frame (text that is not JSON as type "(not json)"), the close code and reason. */
export class ChatSocket {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = "";
  readonly closed: Promise<number>;
  private waiters: Array<() => void> = [];
  private listeners: Array<(frame: Frame) => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString("utf8")) as Frame;
      } catch {
        frame = { type: "(not json)", text: data.toString("utf8") };
      }
      this.frames.push(frame);
      for (const listener of this.listeners) listener(frame);
      this.wake();
    });
    this.closed = new Promise((done) =>
      ws.on("close", (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        done(code);
      }),
    );
    ws.on("error", () => undefined);
  }

  /** The API instance this connection landed on (its `ready` frame's `instance`). */
  get instance(): string {
    return String(this.frames.find((f) => f.type === "ready")?.instance);
  }

  /** Called with every frame from now on. */
  onFrame(listener: (frame: Frame) => void): void {
    this.listeners.push(listener);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves with the first frame matching `predicate` after index `from`, or undefined on close/timeout. */
  async next(predicate: (f: Frame) => boolean, from = 0, timeoutMs = 10_000): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(predicate);
      if (found) return found;
      if (this.closeCode !== undefined || Date.now() >= deadline) return undefined;
      await new Promise<void>((done) => {
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
  }

  /** Waits (bounded) until `count` frames match; returns them. */
  async waitForAll(predicate: (f: Frame) => boolean, count: number, timeoutMs = 20_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.filter(predicate);
      if (found.length >= count) return found;
      if (this.closeCode !== undefined) {
        throw new Error(
          `socket closed (${this.closeCode} ${this.closeReason}) with ${found.length}/${count} frames`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out with ${found.length}/${count} matching frames; last: ${JSON.stringify(this.frames.slice(-3))}`,
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

  async waitFor(predicate: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame> {
    return (await this.waitForAll(predicate, 1, timeoutMs))[0]!;
  }

  /** Sends a frame and waits for the first matching frame that arrives after it. */
  async request(frame: Record<string, unknown>, predicate: (f: Frame) => boolean): Promise<Frame> {
    const seen = new Set(this.frames);
    this.send(frame);
    return this.waitFor((f) => !seen.has(f) && predicate(f));
  }

  messages(roomId: string): MessageFrame["message"][] {
    return (this.frames.filter((f) => f.type === "message") as MessageFrame[])
      .map((f) => f.message)
      .filter((m) => m.room_id === roomId);
  }

  /** Sends unless the socket is no longer open. */
  send(frame: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** A clean close (the close handshake). */
  close(): void {
    this.ws.close();
  }

  /** Drops the connection without a close frame. */
  terminate(): void {
    this.ws.terminate();
  }

  /**
   * Drops the connection and resolves once it is closed. Through a `kubectl port-forward`, a
   * client-initiated close handshake races the client's last bytes against nginx closing the
   * connection, and the reset that can follow ends the forward with every connection on it.
   */
  async drop(): Promise<void> {
    if (this.closeCode === undefined) this.terminate();
    await this.closed;
  }
}

export type Opened = { socket: ChatSocket } | { status: number; retryAfter?: string };

/** Opens /ws with a token; the upgrade may be refused (HTTP status) or accepted (then maybe closed 4001). */
export function openSocket(
  base: string,
  token: string | null,
  headers: Record<string, string> = {},
  options: ClientOptions = {},
): Promise<Opened> {
  const url = `${base.replace(/^http/, "ws")}/ws${token === null ? "" : `?token=${encodeURIComponent(token)}`}`;
  return new Promise((done, fail) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 15_000, ...options });
    const socket = new ChatSocket(ws);
    ws.once("open", () => done({ socket }));
    ws.once("unexpected-response", (_req, res) => {
      done({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] as string | undefined });
      ws.terminate();
    });
    ws.once("error", (error) => fail(error));
  });
}

/** Opens, waits for `ready`; throws if the server did not accept the token. */
export async function connect(
  base: string,
  token: string,
  headers: Record<string, string> = {},
  options: ClientOptions = {},
): Promise<ChatSocket> {
  const opened = await openSocket(base, token, headers, options);
  if (!("socket" in opened)) throw new Error(`WebSocket upgrade refused: HTTP ${opened.status}`);
  const ready = await opened.socket.next((f) => f.type === "ready");
  if (!ready)
    throw new Error(`no ready frame (closed ${opened.socket.closeCode} ${opened.socket.closeReason})`);
  return opened.socket;
}

/** Opens a WebSocket URL as it is (no token added); rejects when the upgrade is refused. */
export async function openUrl(url: string, options: ClientOptions = {}): Promise<ChatSocket> {
  const ws = new WebSocket(url, options);
  const socket = new ChatSocket(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return socket;
}

/** Asserts a contiguous, duplicate-free seq run from..to. */
export function seqs(messages: Array<{ seq: number }>): number[] {
  return messages.map((m) => m.seq);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
