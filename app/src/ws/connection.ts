// One authenticated WebSocket connection: frame handling, rate limit, slow-consumer guard.
import type { Socket } from "node:net";
import type pg from "pg";
import type { Logger } from "pino";
import { WebSocket } from "ws";
import { databaseUnavailable, isDatabaseUnavailable } from "../db/unavailable.js";
import { ApiError } from "../domain/errors.js";
import type { MessageWriter } from "../domain/message-writer.js";
import type { Metrics } from "../observability/metrics.js";
import { ackFrame, encodeMessage, SharedFrame } from "./encode.js";
import { errorFrame, parseClientFrame, type ClientFrame } from "./frames.js";
import type { Hub, Recipient } from "./hub.js";

export const CLOSE_BAD_TOKEN = 4001;
export const CLOSE_RATE_LIMIT = 4008;
export const CLOSE_GOING_AWAY = 1001;

export interface ConnectionContext {
  pool: pg.Pool;
  writer: MessageWriter;
  hub: Hub;
  metrics: Metrics;
  logger: Logger;
  /** Frames per second a connection may send (token bucket, bursts up to twice that). */
  ratePerSecond: number;
  /** A connection whose unsent data exceeds this is dropped (it reconnects and resumes). */
  maxBufferedBytes: number;
  /** Tracks writes still in flight, so shutdown can wait for them. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Set on SIGTERM: new frames are refused so in-flight writes can drain. */
  readonly lifecycle: { shuttingDown: boolean };
}

const PONG = Buffer.from('{"type":"pong"}');

/**
 * The TCP socket under a ws WebSocket. ws has no public cork(); its own Sender corks this same
 * socket around each frame (ws/lib/sender.js), so corking it one level up is what ws expects.
 */
function tcpSocket(ws: WebSocket): Socket | undefined {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  return typeof socket?.cork === "function" ? socket : undefined;
}

export class Connection implements Recipient {
  /** Reset by every pong or frame; the heartbeat terminates connections that stay silent. */
  isAlive = true;
  closed = false;
  private tokens: number;
  private refilledAt = Date.now();
  /** Frames delivered during the current tick, written together by flush(). */
  private queued: Array<Buffer | string | SharedFrame> = [];

  constructor(
    readonly ws: WebSocket,
    readonly userId: string,
    readonly clientId: string,
    /** Access-token expiry (seconds since the epoch): the heartbeat closes with 4001 after it. */
    readonly expiresAt: number,
    private readonly ctx: ConnectionContext,
  ) {
    this.tokens = ctx.ratePerSecond * 2;
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on("pong", () => {
      this.isAlive = true;
    });
  }

  /**
   * Queues a frame for this tick. Everything delivered to this connection in one tick (a batch
   * commit, a burst of fan-out messages read from Redis at once) leaves in one write system call
   * instead of one per frame: under load that is most of a server's CPU. Order is kept.
   */
  deliver(frame: Buffer | string | SharedFrame): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    // Only what earlier ticks could not write counts: this tick's frames are not late yet.
    if (this.ws.bufferedAmount > this.ctx.maxBufferedBytes) {
      this.ctx.metrics.slowConsumersDropped.inc();
      this.ctx.logger.warn(
        { user_id: this.userId, buffered: this.ws.bufferedAmount },
        "dropping slow WebSocket consumer",
      );
      this.ws.terminate();
      return false;
    }
    if (this.queued.length === 0) queueMicrotask(this.flush);
    this.queued.push(frame);
    return true;
  }

  private readonly flush = (): void => {
    const frames = this.queued;
    this.queued = [];
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const socket = tcpSocket(this.ws);
    const corked = socket !== undefined && frames.length > 1;
    if (corked) socket.cork();
    for (const frame of frames) {
      // A shared message frame is already a whole WebSocket frame: written as is. ws writes its
      // own frames to this socket synchronously (no compression here), so order is kept.
      if (frame instanceof SharedFrame) {
        if (socket) socket.write(frame.wire);
        else this.ws.send(frame.payload, { binary: false });
      } else this.ws.send(frame, { binary: false });
    }
    if (corked) socket.uncork();
  };

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
  }

  private takeToken(): boolean {
    const now = Date.now();
    const rate = this.ctx.ratePerSecond;
    this.tokens = Math.min(rate * 2, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    this.isAlive = true;
    if (this.closed) return;
    if (!this.takeToken()) {
      this.ctx.metrics.wsRateLimited.inc();
      this.ctx.logger.warn(
        { user_id: this.userId },
        "WebSocket client exceeded the frame rate; closing with 4008",
      );
      this.closed = true;
      this.ws.close(CLOSE_RATE_LIMIT, "rate limit exceeded");
      return;
    }
    if (this.ctx.lifecycle.shuttingDown) {
      this.deliver(errorFrame("shutting_down", "this instance is shutting down; reconnect and retry"));
      return;
    }
    if (isBinary) {
      this.deliver(
        errorFrame("binary_not_supported", "frames are JSON text; binary frames are not accepted"),
      );
      return;
    }
    const result = parseClientFrame(data.toString("utf8"));
    if (!result.ok) {
      this.deliver(errorFrame(result.code, result.message, result.ref, result.details));
      return;
    }
    this.handle(result.frame).catch((error: unknown) => this.fail(error, result.frame));
  }

  private async handle(frame: ClientFrame): Promise<void> {
    const actor = { userId: this.userId, clientId: this.clientId };
    switch (frame.type) {
      case "ping":
        this.deliver(PONG);
        return;
      case "subscribe":
        await this.ctx.hub.subscribe(this, actor, frame.room_id, frame.after_seq);
        return;
      case "unsubscribe":
        this.ctx.hub.unsubscribe(this, frame.room_id);
        this.deliver(`{"type":"unsubscribed","room_id":${JSON.stringify(frame.room_id)}}`);
        return;
      case "send": {
        // Queued synchronously, in frame order: the writer keeps a room's queue in order, so a
        // client's pipelined sends get increasing seqs (and can share one commit).
        const { message, created } = await this.ctx.track(
          this.ctx.writer.send(actor, frame.room_id, frame.body, frame.client_msg_id),
        );
        const encoded = encodeMessage(message);
        if (created) this.ctx.metrics.messagesSent.inc();
        // A retry publishes too (see routes/rooms.ts): receivers drop a seq they already have.
        this.ctx.hub.publish(encoded);
        this.deliver(ackFrame(message.client_msg_id, encoded.json));
        return;
      }
    }
  }

  private fail(error: unknown, frame: ClientFrame): void {
    const ref = frame.ref ?? (frame.type === "send" ? frame.client_msg_id : undefined);
    if (error instanceof ApiError) {
      this.deliver(errorFrame(error.code, error.message, ref));
      return;
    }
    if (isDatabaseUnavailable(error)) {
      const unavailable = databaseUnavailable();
      this.ctx.logger.warn({ err: (error as Error).message, frame_type: frame.type }, "database unavailable");
      this.deliver(errorFrame(unavailable.code, unavailable.message, ref));
      return;
    }
    this.ctx.logger.error(
      { err: error, frame_type: frame.type, user_id: this.userId },
      "WebSocket frame failed",
    );
    this.deliver(errorFrame("internal_error", "the server could not handle this frame; retry it", ref));
  }
}
