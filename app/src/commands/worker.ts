// `chatapi worker`: RabbitMQ job consumer and outbox relay, with health and metrics on
// METRICS_PORT. SIGTERM/SIGINT stop it gracefully (running jobs finish or return to the queue).
import { loadConfig } from "../config/env.js";
import { createLogger } from "../observability/logger.js";
import { initSentry } from "../observability/sentry.js";
import { VERSION } from "../version.js";
import { stopOnSignals } from "./stop-on-signals.js";
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
  stopOnSignals({
    logger,
    reporter,
    stop: () => running.stop(),
    forcedMessage: "second signal: exiting now (unfinished jobs return to the queue)",
  });
}
