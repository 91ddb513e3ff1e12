// Room fan-out over Redis pub/sub: one channel per room with local subscribers. Payloads are
// opaque Buffers (pre-serialised frames) so no instance parses JSON to forward a message.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Fanout, FanoutHandlers, PublishOptions } from "../ws/fanout.js";
import { ProbeWaiters, UnpublishedBacklog } from "./fanout-backlog.js";

export interface RedisFanoutOptions {
  url: string;
  prefix: string;
  logger: Logger;
  onPublishFailure?: () => void;
  /** The subscription went live (true) or was lost (false). */
  onSubscriptionChange?: (live: boolean) => void;
}

export class RedisFanout implements Fanout {
  private readonly sub: Redis;
  private readonly pub: Redis;
  private handlers: FanoutHandlers | undefined;
  private readonly rooms = new Set<string>();
  private readonly roomPrefix: string;
  private readonly probeChannel: string;
  private readonly probes = new ProbeWaiters();
  /** What could not be published while the publisher was down. */
  private readonly unpublished = new UnpublishedBacklog();
  private subscriberWasReady = false;
  private subscriptionLive = false;
  private closed = false;

  constructor(private readonly options: RedisFanoutOptions) {
    this.roomPrefix = `${options.prefix}room:`;
    this.probeChannel = `${options.prefix}probe:${randomUUID()}`;
    const retryStrategy = (times: number) => Math.min(100 * times, 2000);
    // The subscriber re-subscribes itself after a reconnect, then asks the hub to catch up.
    this.sub = new Redis(options.url, {
      lazyConnect: true,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      retryStrategy,
      connectionName: "chatapi-fanout-sub",
    });
    // Each publish is written to Redis at once. (Auto-pipelining would batch a tick's publishes,
    // but writes them from setImmediate: after every other socket event of that loop iteration,
    // so the other instances' subscribers would wait behind this one's local work.)
    this.pub = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy,
      connectionName: "chatapi-fanout-pub",
    });
    this.sub.on("messageBuffer", (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    this.sub.on("ready", () => void this.onSubscriberReady());
    this.sub.on("close", () => this.onSubscriberClosed());
    this.sub.on("error", (error: Error) =>
      options.logger.warn({ err: error.message }, "redis subscriber error"),
    );
    this.pub.on("ready", () => this.flushUnpublished());
    this.pub.on("error", (error: Error) =>
      options.logger.warn({ err: error.message }, "redis publisher error"),
    );
  }

  /** Connects both connections; resolves when the subscriber is live (rejects on failure). */
  async start(): Promise<void> {
    await Promise.all([this.sub.connect(), this.pub.connect()]);
    await this.waitLive(10_000);
  }

  setHandlers(handlers: FanoutHandlers): void {
    this.handlers = handlers;
  }

  async subscribe(roomId: string): Promise<void> {
    this.rooms.add(roomId);
    if (this.sub.status !== "ready") return;
    try {
      await this.sub.subscribe(this.roomPrefix + roomId);
    } catch {
      // The connection dropped meanwhile: onSubscriberReady subscribes again and resyncs.
    }
  }

  async unsubscribe(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
    if (this.sub.status !== "ready") return;
    await this.sub.unsubscribe(this.roomPrefix + roomId).catch(() => undefined);
  }

  publish(roomId: string, payload: Buffer, options: PublishOptions = {}): void {
    const keepForLater = () => {
      this.unpublished.add(roomId, payload, options.keep ?? false);
      this.options.onPublishFailure?.();
    };
    if (this.pub.status !== "ready") return keepForLater();
    this.pub.publish(this.roomPrefix + roomId, payload).catch(keepForLater);
  }

  /** Round trip through Redis: publish on this instance's probe channel and see it arrive. */
  async check(timeoutMs: number): Promise<void> {
    if (!this.subscriptionLive) throw new Error("the Redis subscription is down");
    const token = randomUUID();
    const arrived = this.probes.wait(
      token,
      timeoutMs,
      `the Redis subscription did not deliver a probe within ${timeoutMs} ms`,
    );
    try {
      await this.pub.publish(this.probeChannel, token);
    } catch (error) {
      this.probes.arrived(token);
      throw new Error(`cannot publish to Redis (${(error as Error).message})`);
    }
    await arrived;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
    this.sub.disconnect();
    this.pub.disconnect();
  }

  private onMessage(channel: Buffer, message: Buffer): void {
    const name = channel.toString("latin1");
    if (name.startsWith(this.roomPrefix)) {
      this.handlers?.onMessage(name.slice(this.roomPrefix.length), message);
    } else if (name === this.probeChannel) {
      this.probes.arrived(message.toString("latin1"));
    }
  }

  private async onSubscriberReady(): Promise<void> {
    const channels = [this.probeChannel, ...[...this.rooms].map((room) => this.roomPrefix + room)];
    try {
      await this.sub.subscribe(...channels);
    } catch (error) {
      this.options.logger.warn(
        { err: (error as Error).message },
        "redis re-subscribe failed; will retry on reconnect",
      );
      return;
    }
    this.setLive(true);
    if (this.subscriberWasReady && !this.closed) {
      this.options.logger.info(
        { rooms: this.rooms.size },
        "redis subscription restored; catching up from PostgreSQL",
      );
      this.handlers?.onResync();
    }
    this.subscriberWasReady = true;
  }

  /** Until the re-subscribe and the hub's resync, kicks published meanwhile are lost. */
  private onSubscriberClosed(): void {
    this.setLive(false);
    if (this.subscriberWasReady && !this.closed) this.handlers?.onInterrupted();
  }

  private setLive(live: boolean): void {
    if (this.subscriptionLive === live) return;
    this.subscriptionLive = live;
    this.options.onSubscriptionChange?.(live);
  }

  /**
   * After the publisher reconnects: every kept payload (kicks), then the newest message of each
   * room, which tells receivers what they missed.
   */
  private flushUnpublished(): void {
    this.unpublished.drain((roomId, payload, keep) => this.publish(roomId, payload, { keep }));
  }

  private async waitLive(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.subscriptionLive) {
      if (Date.now() > deadline) throw new Error("Redis subscription did not become ready");
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
