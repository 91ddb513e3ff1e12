// Composition and lifecycle of `chatapi serve`: pools and clients, the hub and the gateway,
// HTTP(S) server; graceful shutdown (stop accepting, drain in-flight writes, close with 1001,
// close pools).
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import type { Express } from "express";
import { Redis } from "ioredis";
import type { Config } from "./config/env.js";
import { pendingMigrations } from "./db/migrate.js";
import { createPool } from "./db/pool.js";
import { MessageWriter } from "./domain/message-writer.js";
import { TokenService } from "./domain/tokens.js";
import { buildApp } from "./http/app.js";
import { AuthFailureGuard, trustProxy } from "./http/auth-guard.js";
import type { AppContext } from "./http/context.js";
import type { ReadinessCheck } from "./http/health.js";
import { PresenceTracker } from "./infra/presence.js";
import { RabbitProbe } from "./infra/rabbitmq.js";
import { RedisFanout } from "./infra/redis-fanout.js";
import { ShardedRedisFanout } from "./infra/sharded-redis-fanout.js";
import type { Logger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";
import { noReporter, type ErrorReporter } from "./observability/sentry.js";
import { VERSION } from "./version.js";
import { WebSocketGateway } from "./ws/gateway.js";
import { Hub } from "./ws/hub.js";

export interface RunningServer {
  /** The Express application (tests walk its routes). */
  app: Express;
  port: number;
  url: string;
  hub: Hub;
  gateway: WebSocketGateway;
  metrics: Metrics;
  /** Graceful stop; resolves when everything is closed. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  reporter?: ErrorReporter;
  /** Bounded wait for in-flight writes and closing sockets on shutdown. */
  drainTimeoutMs?: number;
  /** prom-client default process metrics (off for several servers in one test process). */
  defaultMetrics?: boolean;
}

export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics });
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    maxOverflow: config.DATABASE_MAX_OVERFLOW,
    applicationName: `chatapi-${config.INSTANCE_NAME}`.slice(0, 63),
  });
  const cleanups: Array<() => Promise<unknown>> = [() => pool.end()];
  try {
    const pending = await pendingMigrations(pool);
    if (pending.length > 0) {
      throw new Error(
        `the database schema is not up to date (pending: ${pending.join(", ")}); run: chatapi migrate`,
      );
    }
    // No offline queue: while Redis is down, rate-limit counters fail fast (requests pass)
    // instead of waiting for the reconnect.
    const redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A stalled Redis (connection open, no replies) must not stall requests: the rate limit
      // passes on a store error and presence is best effort, so give up on a command after 1 s
      // (found by chaos/faults/redis-trouble: REST sends hung for the whole stall).
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectionName: "chatapi-api",
    });
    redis.on("error", (error: Error) => logger.warn({ err: error.message }, "redis error"));
    cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
    const fanoutEvents = {
      prefix: config.REDIS_KEY_PREFIX,
      logger,
      onPublishFailure: () => metrics.publishFailures.inc(),
      onSubscriptionChange: (live: boolean) => metrics.subscriptionUp.set(live ? 1 : 0),
    };
    const fanout = config.FANOUT_REDIS_CLUSTER_NODES
      ? new ShardedRedisFanout({
          ...fanoutEvents,
          nodes: config.FANOUT_REDIS_CLUSTER_NODES,
          password: config.FANOUT_REDIS_CLUSTER_PASSWORD || undefined,
          instanceName: config.INSTANCE_NAME,
        })
      : new RedisFanout({ ...fanoutEvents, url: config.REDIS_URL });
    if (config.FANOUT_REDIS_CLUSTER_NODES) {
      logger.info(
        { nodes: config.FANOUT_REDIS_CLUSTER_NODES.map((n) => `${n.host}:${n.port}`) },
        "fan-out: sharded pub/sub on a Redis Cluster",
      );
    }
    cleanups.push(() => fanout.close());
    await Promise.all([redis.connect(), fanout.start()]);
    const rabbit = new RabbitProbe(config.RABBITMQ_URL);
    cleanups.push(() => rabbit.close());

    const inFlight = new Set<Promise<unknown>>();
    const track = <T>(work: Promise<T>): Promise<T> => {
      inFlight.add(work);
      const forget = () => inFlight.delete(work);
      work.then(forget, forget);
      return work;
    };
    const lifecycle = { shuttingDown: false };
    const tokens = new TokenService(pool, {
      secretKey: config.SECRET_KEY,
      accessTokenMinutes: config.ACCESS_TOKEN_EXPIRE_MINUTES,
      refreshTokenDays: config.REFRESH_TOKEN_EXPIRE_DAYS,
    });
    const authGuard = new AuthFailureGuard(redis, {
      prefix: config.REDIS_KEY_PREFIX,
      limit: config.AUTH_FAILURES_PER_MINUTE,
    });
    const hub = new Hub({ pool, fanout, logger, metrics });
    const presence = new PresenceTracker(redis, {
      prefix: config.REDIS_KEY_PREFIX,
      instance: config.INSTANCE_NAME,
      logger,
    });
    const writer = new MessageWriter(pool, { metrics });
    const readiness: ReadinessCheck[] = [
      { name: "postgres", run: async () => void (await pool.query("SELECT 1")) },
      { name: "redis", run: async () => void (await redis.ping()) },
      { name: "redis_subscription", run: (ms) => fanout.check(ms) },
      { name: "rabbitmq", run: (ms) => rabbit.check(ms) },
    ];
    const ctx: AppContext = {
      config,
      version: VERSION,
      pool,
      redis,
      tokens,
      authGuard,
      writer,
      hub,
      metrics,
      logger,
      reporter: options.reporter ?? noReporter,
      readiness,
      track,
    };
    const app = buildApp(ctx, lifecycle);
    const server =
      config.SSL_KEYFILE && config.SSL_CERTFILE
        ? https.createServer(
            { key: readFileSync(config.SSL_KEYFILE), cert: readFileSync(config.SSL_CERTFILE) },
            app,
          )
        : http.createServer(app);
    // Idle keep-alive connections longer than a typical LB's (nginx 60 s) avoid 502s on reuse.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    const gateway = new WebSocketGateway({
      pool,
      writer,
      hub,
      metrics,
      logger,
      tokens,
      authGuard,
      trustProxy: trustProxy(config.TRUSTED_PROXY_HOPS),
      maxConnectionsPerAddress: config.WS_MAX_CONNECTIONS_PER_ADDRESS,
      instance: config.INSTANCE_NAME,
      heartbeatMs: config.WS_HEARTBEAT_SECONDS * 1000,
      ratePerSecond: config.WS_SEND_RATE_PER_SECOND,
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      track,
      lifecycle,
      presence,
    });
    gateway.attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.PORT, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const scheme = config.SSL_KEYFILE ? "https" : "http";
    logger.info(
      { port, tls: scheme === "https", version: VERSION },
      `listening on ${scheme}://0.0.0.0:${port}`,
    );

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        const drainMs = options.drainTimeoutMs ?? 10_000;
        lifecycle.shuttingDown = true;
        logger.info({ connections: gateway.size, in_flight: inFlight.size }, "shutting down");
        gateway.stopAccepting();
        // A grace period before the listener closes: readiness already says 503 and every
        // response says Connection: close, so busy keep-alive clients get their next answer and
        // move on. Then stop accepting first (net.Server's close: http's own close would also
        // close "idle" connections at once, including ones whose request is still in the
        // socket, unread), give requests already sent a moment to be read, and only then close
        // the connections that are really idle. Closing at once cut requests mid-flight (found
        // by chaos/faults/sigterm-api-instance).
        await sleep(Math.min(SHUTDOWN_GRACE_MS, drainMs));
        const closedHttp = new Promise<void>((resolve) =>
          net.Server.prototype.close.call(server, () => resolve()),
        );
        await sleep(IN_TRANSIT_MS);
        server.closeIdleConnections();
        // Writes already accepted finish (and are acked) before sockets close.
        await Promise.race([Promise.allSettled([...inFlight]), sleep(drainMs)]);
        await gateway.closeAll(drainMs);
        await presence.close();
        await Promise.race([closedHttp, sleep(drainMs)]);
        server.closeAllConnections();
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
        logger.info("shutdown complete");
      })());
    return { app, port, url: `${scheme}://127.0.0.1:${port}`, hub, gateway, metrics, stop };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    throw error;
  }
}

/** Longest wait for one Redis command on the shared connection (rate limit, presence). */
const REDIS_COMMAND_TIMEOUT_MS = 1000;

/** How long a stopping instance keeps its listener open (see stop()). */
const SHUTDOWN_GRACE_MS = 1000;
/** How long a request already sent on an accepted connection may take to be read. */
const IN_TRANSIT_MS = 200;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
