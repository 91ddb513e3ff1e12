// Room fan-out over Redis 7 sharded pub/sub (SSUBSCRIBE / SPUBLISH) on a Redis Cluster, for
// when one Redis is the limit. A room's channel hashes to one slot, so its messages pass only
// through the master owning that slot (and its replicas), where classic PUBLISH in a cluster is
// relayed to every node. ioredis's Cluster (shardedSubscribers) keeps one subscriber connection
// per master holding this instance's channels and moves them after a failover; this class adds
// what the single-Redis fan-out (redis-fanout.ts) promises: payloads that could not be published
// are kept and sent once the shard is back, the readiness probe goes through every shard, and
// after any shard's subscription was interrupted the hub re-reads from PostgreSQL.
import { randomUUID } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { Cluster } from "ioredis";
import type { Logger } from "pino";
import type { Fanout, FanoutHandlers, PublishOptions } from "../ws/fanout.js";
import { ProbeWaiters, UnpublishedBacklog } from "./fanout-backlog.js";

export interface ClusterNode {
  host: string;
  port: number;
}

export interface ShardedRedisFanoutOptions {
  /** Some of the cluster's nodes; the rest are discovered (CLUSTER SLOTS). */
  nodes: ClusterNode[];
  password?: string;
  prefix: string;
  /** Names this instance's connections (CLIENT LIST: `...:chatapi-fanout:<instance>`). */
  instanceName: string;
  logger: Logger;
  onPublishFailure?: () => void;
  /** Every shard's subscription went live (true), or one was lost (false). */
  onSubscriptionChange?: (live: boolean) => void;
}

/** Longest wait for one SSUBSCRIBE, SPUBLISH or probe while restoring. */
const OPERATION_TIMEOUT_MS = 5000;
/** Wait before the next restore attempt after a failed one. */
const RESTORE_RETRY_MS = 1000;
/** Wait before publishing the kept payloads again after a failed publish. */
const FLUSH_RETRY_MS = 500;
/**
 * Failed restores in a row (one a second) after which the client is replaced: the ioredis client
 * can get stuck in two known ways (see replaceClient) that only a new client gets out of; after
 * `any` failures of whatever kind it is replaced too (a way of getting stuck not seen yet).
 */
const REPLACE_AFTER = { missingSubscriber: 10, notReady: 30, any: 45 };
/** Failed readiness probes in a row, while live, after which the subscriptions are restored. */
const CHECKS_BEFORE_RESTORE = 3;

export class ShardedRedisFanout implements Fanout {
  private cluster: Cluster;
  private handlers: FanoutHandlers | undefined;
  private readonly rooms = new Set<string>();
  /** Rooms whose SSUBSCRIBE failed: the next restore subscribes them. */
  private readonly unconfirmed = new Set<string>();
  private readonly roomPrefix: string;
  private readonly probePrefix: string;
  /** Per master (host:port), a probe channel whose hash tag puts it in a slot that master owns. */
  private probeChannels = new Map<string, string>();
  private readonly subscribedProbes = new Set<string>();
  private readonly probes = new ProbeWaiters();
  private readonly unpublished = new UnpublishedBacklog();
  private live = false;
  private wasLive = false;
  /** Counts interruptions: a restore that saw a newer one does not declare the fan-out live. */
  private generation = 0;
  private restoring = false;
  /** Each slot's master when the subscriptions were last restored. */
  private slotOwners = "";
  private restoreAgain = false;
  /** Restores in a row that failed on a master without a sharded subscriber / with the client not ready / at all. */
  private missingSubscriber = 0;
  private notReady = 0;
  private failedRestores = 0;
  /** Readiness probes in a row that failed while the fan-out counted as live. */
  private failedChecks = 0;
  private restoreTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ShardedRedisFanoutOptions) {
    this.roomPrefix = `${options.prefix}room:`;
    this.probePrefix = `${options.prefix}probe:${randomUUID()}:`;
    this.cluster = this.createClient();
  }

  /** An ioredis Cluster client with this fan-out's handlers (events of a replaced client are ignored). */
  private createClient(): Cluster {
    const { options } = this;
    const cluster = new Cluster(options.nodes, {
      lazyConnect: true,
      shardedSubscribers: true,
      // While the cluster or a shard is unreachable a publish fails at once and is kept (see
      // publish): retried one by one inside ioredis, kicks could overtake each other.
      enableOfflineQueue: false,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
      redisOptions: {
        password: options.password,
        connectionName: `chatapi-fanout:${options.instanceName}`,
      },
    });
    const { logger } = options;
    const on = <A extends unknown[]>(event: string, handler: (...args: A) => void) =>
      cluster.on(event, (...args: unknown[]) => {
        if (cluster === this.cluster) handler(...(args as A));
      });
    on("smessageBuffer", (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    // A master's connection ended (killed, failed over) or a subscriber was replaced.
    on("-node", (_redis: unknown, key: string) => {
      if (this.probeChannels.has(key)) this.disrupt(`master ${key} lost`);
    });
    on("-subscriber", () => this.disrupt("a shard subscriber was replaced"));
    on("close", () => this.disrupt("the cluster connection closed"));
    on("subscribersReady", () => this.scheduleRestore(0));
    on("nodeError", (error: Error, key: string) =>
      logger.warn({ err: error.message, node: key }, "redis cluster subscriber error"),
    );
    cluster.on("error", (error: Error) => {
      if (cluster === this.cluster) logger.warn({ err: error.message }, "redis cluster error");
    });
    return cluster;
  }

  /**
   * A new client in place of a stuck one. Seen with every node of a cluster back on new
   * addresses: ioredis created no subscriber for a master missing from its connection pool when
   * the slot map changed, and never again while the map stayed the same, not even after a
   * reconnect (the new map equalled the remembered one); or its status stayed "disconnecting"
   * (no close event, so no reconnect). A new client builds its subscribers from a fresh slot
   * map, as at start; every room is subscribed again and the hub re-reads PostgreSQL.
   */
  private replaceClient(): void {
    const old = this.cluster;
    this.cluster = this.createClient();
    old.disconnect();
    for (const roomId of this.rooms) this.unconfirmed.add(roomId);
    this.subscribedProbes.clear();
    this.probeChannels = new Map();
    this.cluster.connect().catch((error: Error) => {
      this.options.logger.warn({ err: error.message }, "redis cluster: the new client did not connect yet");
    });
  }

  /** Connects; resolves when every shard's subscription delivers (rejects after 10 s). */
  async start(): Promise<void> {
    await this.cluster.connect();
    this.scheduleRestore(0);
    const deadline = Date.now() + 10_000;
    while (!this.live) {
      if (Date.now() > deadline) throw new Error("the Redis Cluster subscriptions did not become ready");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  setHandlers(handlers: FanoutHandlers): void {
    this.handlers = handlers;
  }

  async subscribe(roomId: string): Promise<void> {
    this.rooms.add(roomId);
    try {
      await timed(this.cluster.ssubscribe(this.roomPrefix + roomId), "SSUBSCRIBE");
    } catch (error) {
      if (!this.rooms.has(roomId)) return;
      // Its shard is unreachable: the restore subscribes it, then the hub re-reads PostgreSQL.
      this.unconfirmed.add(roomId);
      this.disrupt(`SSUBSCRIBE failed (${(error as Error).message})`);
    }
  }

  async unsubscribe(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
    this.unconfirmed.delete(roomId);
    await this.cluster.sunsubscribe(this.roomPrefix + roomId).catch(() => undefined);
  }

  publish(roomId: string, payload: Buffer, options: PublishOptions = {}): void {
    this.cluster.spublish(this.roomPrefix + roomId, payload).catch(() => {
      this.unpublished.add(roomId, payload, options.keep ?? false);
      this.options.onPublishFailure?.();
      this.scheduleFlush();
    });
  }

  /** A round trip through every shard: publish on each master's probe channel, see each arrive. */
  async check(timeoutMs: number): Promise<void> {
    if (!this.live) throw new Error("a Redis Cluster shard subscription is down");
    try {
      await this.probeEveryShard(timeoutMs);
      this.failedChecks = 0;
    } catch (error) {
      // Live, yet a shard does not deliver: a subscription was lost without an event saying so.
      // A few in a row (not one slow probe) start a restore, as an interruption would.
      if (++this.failedChecks >= CHECKS_BEFORE_RESTORE) {
        this.failedChecks = 0;
        // Which subscription was lost is unknown: every probe and room is subscribed again
        // (SSUBSCRIBE of a channel already subscribed changes nothing).
        for (const roomId of this.rooms) this.unconfirmed.add(roomId);
        this.subscribedProbes.clear();
        this.disrupt(`the readiness probe failed ${CHECKS_BEFORE_RESTORE} times in a row`);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restoreTimer);
    clearTimeout(this.flushTimer);
    // QUIT waits for every node's answer: bounded, a dead node must not hold up a shutdown.
    await timed(this.cluster.quit(), "QUIT", 2000).catch(() => undefined);
    this.cluster.disconnect();
  }

  private onMessage(channel: Buffer, message: Buffer): void {
    const name = channel.toString("latin1");
    if (name.startsWith(this.roomPrefix)) {
      this.handlers?.onMessage(name.slice(this.roomPrefix.length), message);
    } else if (name.startsWith(this.probePrefix)) {
      this.probes.arrived(message.toString("latin1"));
    }
  }

  private disrupt(reason: string): void {
    if (this.closed) return;
    this.generation++;
    if (this.live) this.options.logger.warn({ reason }, "redis cluster subscription interrupted");
    this.setLive(false);
    // The restore that follows resyncs only when the fan-out had been live (see restore).
    if (this.wasLive) this.handlers?.onInterrupted();
    this.scheduleRestore(RESTORE_RETRY_MS);
  }

  private scheduleRestore(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.restoreTimer);
    this.restoreTimer = setTimeout(() => void this.runRestore(), delayMs);
    this.restoreTimer.unref();
  }

  private async runRestore(): Promise<void> {
    if (this.restoring) {
      this.restoreAgain = true;
      return;
    }
    this.restoring = true;
    try {
      do {
        this.restoreAgain = false;
        await this.restore();
      } while (this.restoreAgain && !this.closed);
    } catch (error) {
      const message = (error as Error).message;
      this.options.logger.warn({ err: message }, "redis cluster subscriptions not restored yet; retrying");
      const ready = this.cluster.status === "ready";
      this.missingSubscriber =
        ready && /No sharded subscriber/.test(message) ? this.missingSubscriber + 1 : 0;
      this.notReady = ready ? 0 : this.notReady + 1;
      this.failedRestores++;
      if (
        this.missingSubscriber >= REPLACE_AFTER.missingSubscriber ||
        this.notReady >= REPLACE_AFTER.notReady ||
        this.failedRestores >= REPLACE_AFTER.any
      ) {
        this.options.logger.warn(
          {
            missingSubscriber: this.missingSubscriber,
            notReady: this.notReady,
            failedRestores: this.failedRestores,
            status: this.cluster.status,
          },
          "redis cluster: the client is stuck; replacing it",
        );
        this.missingSubscriber = 0;
        this.notReady = 0;
        this.failedRestores = 0;
        this.replaceClient();
      } else if (ready) this.cluster.refreshSlotsCache();
      this.disrupt(message);
    } finally {
      this.restoring = false;
    }
  }

  /**
   * Makes every shard's subscription deliver again: subscribes what is missing, waits until each
   * master's subscriber connection has handled every SSUBSCRIBE written to it before (a barrier:
   * one more SSUBSCRIBE on that connection, answered in order), probes every shard, then lets the
   * hub re-read what it may have missed meanwhile.
   */
  private async restore(): Promise<void> {
    if (this.closed) return;
    const generation = this.generation;
    if (this.cluster.status !== "ready") throw new Error(`the cluster connection is ${this.cluster.status}`);
    await this.updateProbeChannels();
    for (const channel of this.probeChannels.values()) {
      if (this.subscribedProbes.has(channel)) continue;
      await timed(this.cluster.ssubscribe(channel), "SSUBSCRIBE of a probe channel");
      this.subscribedProbes.add(channel);
    }
    for (const roomId of [...this.unconfirmed]) {
      // A room let go meanwhile is not subscribed again (nothing would ever unsubscribe it).
      if (this.rooms.has(roomId))
        await timed(this.cluster.ssubscribe(this.roomPrefix + roomId), "SSUBSCRIBE");
      this.unconfirmed.delete(roomId);
      if (!this.rooms.has(roomId))
        await this.cluster.sunsubscribe(this.roomPrefix + roomId).catch(() => undefined);
    }
    await Promise.all(
      [...this.probeChannels.values()].map(async (channel) => {
        const barrier = `${channel}:barrier`; // same hash tag: same slot, same connection
        await timed(this.cluster.ssubscribe(barrier), "SSUBSCRIBE barrier");
        await timed(this.cluster.sunsubscribe(barrier), "SUNSUBSCRIBE barrier");
      }),
    );
    await this.probeEveryShard(OPERATION_TIMEOUT_MS);
    if (generation !== this.generation || this.closed) return; // interrupted again: restored later
    // Slots that moved to another master (its subscriber reset by ioredis after a slot map
    // change) were unsubscribed meanwhile: read again as after an interruption.
    const owners = this.cluster.slots.map((o) => o?.[0] ?? "").join(",");
    const moved = this.wasLive && owners !== this.slotOwners;
    this.slotOwners = owners;
    const recovered = (this.wasLive && !this.live) || moved;
    this.missingSubscriber = 0;
    this.notReady = 0;
    this.failedRestores = 0;
    this.setLive(true);
    this.wasLive = true;
    if (recovered) {
      this.options.logger.info(
        { rooms: this.rooms.size, shards: this.probeChannels.size },
        "redis cluster subscriptions restored; catching up from PostgreSQL",
      );
      this.handlers?.onResync();
    }
    this.flushUnpublished();
  }

  /** One probe channel per master of the current slot map (stale ones are let go). */
  private async updateProbeChannels(): Promise<void> {
    const slots = this.cluster.slots;
    const masters = new Set(slots.filter((owners) => owners?.[0]).map((owners) => owners[0]!));
    const channels = new Map<string, string>();
    for (let tag = 0; channels.size < masters.size && tag < 1_000_000; tag++) {
      const channel = `${this.probePrefix}{p${tag}}`;
      const owner = slots[calculateSlot(channel)]?.[0];
      if (owner && !channels.has(owner)) channels.set(owner, channel);
    }
    if (masters.size === 0) throw new Error("the cluster's slot map is empty");
    const wanted = new Set(channels.values());
    for (const channel of [...this.subscribedProbes]) {
      if (wanted.has(channel)) continue;
      this.subscribedProbes.delete(channel);
      await this.cluster.sunsubscribe(channel).catch(() => undefined);
    }
    this.probeChannels = channels;
  }

  private async probeEveryShard(timeoutMs: number): Promise<void> {
    await Promise.all(
      [...this.probeChannels].map(async ([master, channel]) => {
        const token = randomUUID();
        const arrived = this.probes.wait(
          token,
          timeoutMs,
          `the shard of ${master} did not deliver a probe within ${timeoutMs} ms`,
        );
        arrived.catch(() => undefined); // rejected while the publish is still awaited: handled below
        try {
          await timed(this.cluster.spublish(channel, token), `SPUBLISH to ${master}`, timeoutMs);
        } catch (error) {
          this.probes.arrived(token);
          throw new Error(`cannot publish to the shard of ${master} (${(error as Error).message})`);
        }
        await arrived;
      }),
    );
  }

  private setLive(live: boolean): void {
    if (this.live === live) return;
    this.live = live;
    this.options.onSubscriptionChange?.(live);
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.closed) return;
    // A failed publish may mean a failover: read the slot map again (ioredis's own retries that
    // would do it are off, see the constructor).
    if (this.cluster.status === "ready") this.cluster.refreshSlotsCache();
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushUnpublished();
    }, FLUSH_RETRY_MS);
    this.flushTimer.unref();
  }

  /** Kicks first, then each room's newest message (it tells receivers what they missed). */
  private flushUnpublished(): void {
    this.unpublished.drain((roomId, payload, keep) => this.publish(roomId, payload, { keep }));
  }
}

/** Rejects when `work` takes longer than `timeoutMs`. */
function timed<T>(work: Promise<T>, what: string, timeoutMs = OPERATION_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  work.catch(() => undefined); // a late failure after the timeout is not unhandled
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
