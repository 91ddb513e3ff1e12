// A WebSocket test client that records every frame and lets tests wait for the ones they expect.
import WebSocket from "ws";

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface MessageFrame extends Frame {
  message: {
    id: string;
    room_id: string;
    seq: number;
    body: string;
    sender_id: string;
    client_msg_id: string | null;
  };
}

export class TestSocket {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = "";
  readonly closed: Promise<number>;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve(code);
      }),
    );
    ws.on("error", () => undefined);
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    const ws = new WebSocket(url, options);
    const socket = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return socket;
  }

  /** Opens and waits for the `ready` frame. */
  static async connect(
    base: string,
    token: string,
    options: WebSocket.ClientOptions = {},
  ): Promise<TestSocket> {
    const socket = await TestSocket.open(
      `${base.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(token)}`,
      options,
    );
    await socket.waitFor((f) => f.type === "ready");
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
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

  close(): void {
    this.ws.close();
  }
}

/** Asserts a contiguous, duplicate-free seq run from..to. */
export function seqs(messages: Array<{ seq: number }>): number[] {
  return messages.map((m) => m.seq);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
