// Composition and lifecycle of `chatapi worker`: the RabbitMQ session (reconnected with backoff,
// topology declared each time), the job consumer, the outbox relay, housekeeping, and the
// health/metrics server on METRICS_PORT. Graceful stop: stop consuming and relaying, give
// running jobs the shutdown timeout, return the rest to the queue, close everything.
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import type pg from "pg";
import type { Config } from "./config/env.js";
import { pendingMigrations } from "./db/migrate.js";
import { createPool } from "./db/pool.js";
import { AmqpSession } from "./jobs/amqp-session.js";
import { JobConsumer } from "./jobs/consumer.js";
import { pruneJobRecords } from "./jobs/housekeeping.js";
import { MESSAGE_POSTED, NOTIFICATION_DIGEST, messagePostedHandler } from "./jobs/handlers/message-posted.js";
import { notificationDigestHandler } from "./jobs/handlers/notification-digest.js";
import { startHealthServer } from "./jobs/health-server.js";
import { Mailer } from "./jobs/mailer.js";
import { OutboxRelay } from "./jobs/relay.js";
import { DEAD_QUEUE, JOB_QUEUE, declareTopology } from "./jobs/topology.js";
import { WorkerMetrics } from "./jobs/worker-metrics.js";
import type { Logger } from "./observability/logger.js";
import { VERSION } from "./version.js";

export interface RunningWorker {
  port: number;
  metrics: WorkerMetrics;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  logger: Logger;
  defaultMetrics?: boolean;
}

export async function startWorker(config: Config, options: WorkerOptions): Promise<RunningWorker> {
  const { logger } = options;
  const metrics = new WorkerMetrics({ defaultMetrics: options.defaultMetrics });
  // A connection per running job (the e-mail claim is held across the SMTP conversation), plus
  // the relay and the handlers' reads.
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    poolSize: Math.min(config.DATABASE_POOL_SIZE, config.WORKER_CONCURRENCY + 2),
    maxOverflow: config.WORKER_CONCURRENCY + 4,
    applicationName: `chatapi-worker-${config.INSTANCE_NAME}`.slice(0, 63),
  });
  const cleanups: Array<() => Promise<unknown>> = [() => pool.end()];
  try {
    const pending = await pendingMigrations(pool);
    if (pending.length > 0) {
      throw new Error(
        `the database schema is not up to date (pending: ${pending.join(", ")}); run: chatapi migrate`,
      );
    }
    const redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectionName: "chatapi-worker",
    });
    redis.on("error", (error: Error) => logger.warn({ err: error.message }, "redis error"));
    cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
    await redis.connect();

    const mailer = mailerFrom(config);
    if (mailer) cleanups.push(async () => mailer.close());
    else logger.warn("SMTP_HOST or EMAILS_FROM_EMAIL is not set: e-mail notifications are off");

    const handlers = {
      [MESSAGE_POSTED]: messagePostedHandler({
        pool,
        redis,
        redisPrefix: config.REDIS_KEY_PREFIX,
        batchDelayMs: Math.round(config.NOTIFICATION_BATCH_SECONDS * 1000),
        emailEnabled: mailer !== undefined,
      }),
      [NOTIFICATION_DIGEST]: notificationDigestHandler({
        pool,
        redis,
        redisPrefix: config.REDIS_KEY_PREFIX,
        mailer,
        projectName: config.PROJECT_NAME,
        onSent: () => metrics.emailsSent.inc(),
      }),
    };
    metrics.initJobTypes(Object.keys(handlers));
    const consumer = new JobConsumer({
      logger,
      metrics,
      concurrency: config.WORKER_CONCURRENCY,
      prefetch: config.WORKER_PREFETCH,
      maxAttempts: config.WORKER_MAX_ATTEMPTS,
      retryBaseMs: config.WORKER_RETRY_BASE_SECONDS * 1000,
      handlers,
    });
    const relay = new OutboxRelay({
      pool,
      logger,
      pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
      onPublished: (n) => metrics.outboxPublished.inc(n),
    });
    const session = new AmqpSession(config.RABBITMQ_URL, config.INSTANCE_NAME, logger, {
      onOpen: async (connection) => {
        const consumeChannel = await connection.createConfirmChannel();
        await declareTopology(consumeChannel);
        const relayChannel = await connection.createConfirmChannel();
        const statsChannel = await connection.createChannel();
        relay.attach(relayChannel);
        await consumer.attach(consumeChannel);
        return { channels: [consumeChannel, relayChannel, statsChannel], statsChannel };
      },
      onClose: () => {
        consumer.detach();
        relay.detach();
      },
    });
    metrics.setDepthSource({
      queues: async () => {
        const channel = session.statsChannel;
        if (!channel) throw new Error("not connected");
        const [jobs, dead] = await Promise.all([
          channel.checkQueue(JOB_QUEUE),
          channel.checkQueue(DEAD_QUEUE),
        ]);
        return { [JOB_QUEUE]: jobs.messageCount, [DEAD_QUEUE]: dead.messageCount };
      },
      outbox: () => outboxBacklog(pool),
    });
    session.start();
    cleanups.push(() => session.close());

    const lifecycle = { stopping: false };
    const healthServer = await startHealthServer(config.METRICS_PORT, metrics, async () => {
      if (lifecycle.stopping) return { shutting_down: "the worker is stopping" };
      const failures: Record<string, string> = {};
      await Promise.all([
        pool.query("SELECT 1").catch((e: Error) => (failures.postgres = e.message)),
        redis.ping().catch((e: Error) => (failures.redis = e.message)),
        consumer.consuming ? undefined : (failures.rabbitmq = session.lastError ?? "not consuming yet"),
      ]);
      return failures;
    });
    cleanups.push(
      () => new Promise<void>((resolve) => healthServer.close(() => resolve())),
      async () => healthServer.closeAllConnections(),
    );

    const prune = () =>
      pruneJobRecords(pool)
        .then((n) => n > 0 && logger.info({ rows: n }, "pruned old job records"))
        .catch((error: Error) => logger.warn({ err: error.message }, "pruning job records failed"));
    const housekeeping = setInterval(prune, 3_600_000);
    housekeeping.unref();
    void prune();

    const port = (healthServer.address() as AddressInfo).port;
    logger.info(
      {
        port,
        version: VERSION,
        concurrency: config.WORKER_CONCURRENCY,
        prefetch: config.WORKER_PREFETCH,
        email: mailer !== undefined,
      },
      `worker listening on http://0.0.0.0:${port} (health, metrics)`,
    );

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        lifecycle.stopping = true;
        clearInterval(housekeeping);
        logger.info({ running: consumer.active }, "worker stopping");
        session.stopReconnecting();
        await relay.stop();
        const result = await consumer.stop(config.WORKER_SHUTDOWN_TIMEOUT_SECONDS * 1000);
        logger.info(result, "jobs finished or returned to the queue");
        // Bounded: a connection still held by a job that did not finish must not block the exit.
        for (const cleanup of cleanups.reverse()) await bounded(cleanup(), 5000);
        logger.info("worker stopped");
      })());
    return { port, metrics, stop };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    throw error;
  }
}

function mailerFrom(config: Config): Mailer | undefined {
  if (!config.SMTP_HOST || !config.EMAILS_FROM_EMAIL) return undefined;
  return new Mailer({
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    user: config.SMTP_USER,
    password: config.SMTP_PASSWORD,
    from: config.EMAILS_FROM_EMAIL,
    fromName: config.PROJECT_NAME,
    maxConnections: config.WORKER_CONCURRENCY,
  });
}

async function outboxBacklog(pool: pg.Pool): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const { rows } = await pool.query<{ pending: number; age: number | null }>(
    "SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbox",
  );
  return { pending: rows[0]?.pending ?? 0, oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
}

const bounded = (work: Promise<unknown>, ms: number) =>
  Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);
