// `chatapi serve`: the API and WebSocket server. SIGTERM/SIGINT stop it gracefully (exit 0).
import { loadConfig } from "../config/env.js";
import { migrateUp } from "../db/migrate.js";
import { createLogger } from "../observability/logger.js";
import { initSentry } from "../observability/sentry.js";
import { startServer } from "../server.js";
import { VERSION } from "../version.js";

export async function serve(args: { migrate: boolean }): Promise<void> {
  const config = loadConfig(process.env, { needsSecretKey: true });
  const logger = createLogger({
    level: config.LOG_LEVEL,
    instance: config.INSTANCE_NAME,
    environment: config.ENVIRONMENT,
    logFile: config.LOG_FILE,
  });
  if (config.secretKeyGenerated) {
    logger.warn("SECRET_KEY is not set: using a random key for this process only (tokens die with it)");
  }
  const reporter = await initSentry(config.SENTRY_DSN, {
    environment: config.ENVIRONMENT,
    release: VERSION,
    logger,
  });
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled promise rejection");
    reporter.capture(reason);
  });
  if (args.migrate) {
    const applied = await migrateUp(config.DATABASE_URL, { info: (m) => logger.info(m) });
    logger.info({ applied }, applied.length ? "migrations applied" : "schema up to date");
  }
  const server = await startServer(config, { logger, reporter });
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "signal received: stopping");
    server
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
