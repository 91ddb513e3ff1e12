// A small client of the chat service's contract (shared/API.md) for operator scripts and
// tests: REST over HTTPS with a given CA (TLS always verified), and WebSocket clients that
// keep every frame they receive.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import WebSocket from "ws";
import type { ChatMessage, Frame } from "../../toolbox/chat-client";

export interface Endpoint {
  /** e.g. https://localhost:8443/ */
  baseUrl: string;
  /** PEM CA certificate(s) to trust instead of the system's (self-signed stacks). */
  ca?: string;
  /** REST prefix (API_V1_STR). */
  apiPrefix?: string;
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface Credentials {
  apiKey?: string;
  token?: string;
}

export function apiPath(endpoint: Endpoint, path: string): string {
  return `${(endpoint.apiPrefix ?? "/api/v1").replace(/\/$/, "")}${path}`;
}

export function httpCall<T = unknown>(
  endpoint: Endpoint,
  method: string,
  path: string,
  options: Credentials & { body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult<T>> {
  const url = new URL(
    path.replace(/^\//, ""),
    endpoint.baseUrl.endsWith("/") ? endpoint.baseUrl : `${endpoint.baseUrl}/`,
  );
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { accept: "application/json" };
  if (payload !== undefined) headers["content-type"] = "application/json";
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        headers,
        ...(endpoint.ca ? { ca: endpoint.ca } : {}),
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: body as T, headers: res.headers });
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`${method} ${url.pathname}: no answer within ${options.timeoutMs ?? 15_000} ms`)),
    );
    req.on("error", (error) => reject(new Error(`${method} ${url.href}: ${error.message}`)));
    req.end(payload);
  });
}

/** A call that must answer with `status`; the error names the call and what came back. */
export async function expectStatus<T>(
  endpoint: Endpoint,
  status: number,
  method: string,
  path: string,
  options: Credentials & { body?: unknown } = {},
): Promise<T> {
  const result = await httpCall<T>(endpoint, method, path, options);
  if (result.status !== status)
    throw new Error(
      `${method} ${path}: expected ${status}, got ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`,
    );
  return result.body;
}

export type { ChatMessage, Frame };

/** One WebSocket connection to /ws: every frame is kept in order; waiters see them all. */
export class ChatSocket {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];
  private frameListeners: ((frame: Frame) => void)[] = [];
  private closeListeners: ((code: number) => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly ready: Frame,
  ) {}

  static connect(endpoint: Endpoint, token: string, timeoutMs = 15_000): Promise<ChatSocket> {
    const base = new URL(endpoint.baseUrl);
    const url = `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}/ws?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url, {
      ...(endpoint.ca ? { ca: endpoint.ca } : {}),
      handshakeTimeout: timeoutMs,
    });
    return new Promise((resolve, reject) => {
      let socket: ChatSocket | undefined;
      const early: Frame[] = [];
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`WebSocket ${base.host}/ws: no ready frame within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.on("message", (data) => {
        const frame = JSON.parse(String(data)) as Frame;
        if (socket) return socket.receive(frame);
        if (frame.type !== "ready") return early.push(frame);
        clearTimeout(timer);
        socket = new ChatSocket(ws, frame);
        for (const f of early) socket.receive(f);
        resolve(socket);
      });
      ws.on("close", (code, reason) => {
        clearTimeout(timer);
        if (socket) socket.onClose(code, String(reason));
        else reject(new Error(`WebSocket ${base.host}/ws closed before ready: ${code} ${String(reason)}`));
      });
      ws.on("error", (error) => {
        clearTimeout(timer);
        if (!socket) reject(new Error(`WebSocket ${base.host}/ws: ${error.message}`));
      });
    });
  }

  /** The API instance this connection landed on (the ready frame's `instance`). */
  get instance(): string {
    return String(this.ready.instance);
  }

  private receive(frame: Frame): void {
    this.frames.push(frame);
    for (const listener of this.frameListeners) listener(frame);
    for (const wake of this.waiters.splice(0)) wake();
  }

  private onClose(code: number, reason: string): void {
    this.closed = { code, reason };
    for (const listener of this.closeListeners) listener(code);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Called with every frame from now on (after `ready`). */
  onFrame(listener: (frame: Frame) => void): void {
    this.frameListeners.push(listener);
  }

  /** Called once when the connection closes (by either side, or because it broke). */
  onClosed(listener: (code: number) => void): void {
    if (this.closed) listener(this.closed.code);
    else this.closeListeners.push(listener);
  }

  /** Sends when the connection is open; false when it is not (nothing sent). */
  send(frame: Frame): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** The first frame (from index `from`) that matches; rejects on timeout or close. */
  async waitFor(match: (frame: Frame) => boolean, timeoutMs = 10_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.closed)
        throw new Error(`the WebSocket closed (${this.closed.code} ${this.closed.reason}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching frame within ${timeoutMs} ms (last: ${JSON.stringify(this.frames.at(-1))})`,
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

  /** Messages of a room received so far (`message` frames and the sender's own acks are separate). */
  messages(roomId: string): ChatMessage[] {
    return this.frames
      .filter((f) => f.type === "message" && (f.message as ChatMessage).room_id === roomId)
      .map((f) => f.message as ChatMessage);
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}
