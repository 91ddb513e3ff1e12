// `chatapi worker`: RabbitMQ job consumer and outbox relay, with health and metrics on
// METRICS_PORT. SIGTERM/SIGINT stop it gracefully (running jobs finish or return to the queue).
import { loadConfig } from "../config/env.js";
import { createLogger } from "../observability/logger.js";
import { initSentry } from "../observability/sentry.js";
import { VERSION } from "../version.js";
import { startWorker } from "../worker.js";

export async function worker(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    level: config.LOG_LEVEL,
    instance: config.INSTANCE_NAME,
    environment: config.ENVIRONMENT,
    logFile: config.LOG_FILE,
  });
  const reporter = await initSentry(config.SENTRY_DSN, {
    environment: config.ENVIRONMENT,
    release: VERSION,
    logger,
  });
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled promise rejection");
    reporter.capture(reason);
  });
  const running = await startWorker(config, { logger });
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, "second signal: exiting now (unfinished jobs return to the queue)");
      process.exit(1);
    }
    logger.info({ signal }, "signal received: stopping");
    running
      .stop()
      .then(() => reporter.flush(2000))
      .then(() => new Promise<void>((resolve) => logger.flush(() => resolve())))
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
