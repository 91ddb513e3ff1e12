// `chatapi serve`: the API and WebSocket server. SIGTERM/SIGINT stop it gracefully (exit 0).
import { loadConfig } from "../config/env.js";
import { migrateUp } from "../db/migrate.js";
import { createLogger } from "../observability/logger.js";
import { initSentry } from "../observability/sentry.js";
import { startServer } from "../server.js";
import { VERSION } from "../version.js";
import { stopOnSignals } from "./stop-on-signals.js";

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
  stopOnSignals({ logger, reporter, stop: () => server.stop(), forcedMessage: "second signal: exiting now" });
}
