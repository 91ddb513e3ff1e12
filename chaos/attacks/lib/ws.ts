// A WebSocket client for the attacks: records frames, the close code and refused upgrades.
import WebSocket, { type ClientOptions } from "ws";

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export class Socket {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = "";
  readonly closed: Promise<number>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      try {
        this.frames.push(JSON.parse(data.toString("utf8")) as Frame);
      } catch {
        this.frames.push({ type: "(not json)", text: data.toString("utf8") });
      }
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

  send(frame: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  close(): void {
    this.ws.terminate();
  }
}

export type Opened = { socket: Socket } | { status: number; retryAfter?: string };

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
    const socket = new Socket(ws);
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
): Promise<Socket> {
  const opened = await openSocket(base, token, headers, options);
  if (!("socket" in opened)) throw new Error(`WebSocket upgrade refused: HTTP ${opened.status}`);
  const ready = await opened.socket.next((f) => f.type === "ready");
  if (!ready)
    throw new Error(`no ready frame (closed ${opened.socket.closeCode} ${opened.socket.closeReason})`);
  return opened.socket;
}
