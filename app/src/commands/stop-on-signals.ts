// The long-running commands (serve, worker) stop the same way: the first SIGTERM/SIGINT stops
// gracefully, flushes errors and logs and exits 0 (1 if stopping failed); a second signal exits
// at once.
import type { Logger } from "../observability/logger.js";
import type { ErrorReporter } from "../observability/sentry.js";

export function stopOnSignals(options: {
  logger: Logger;
  reporter: ErrorReporter;
  stop: () => Promise<void>;
  /** Logged when a second signal cuts the graceful stop short. */
  forcedMessage: string;
}): void {
  const { logger, reporter, stop, forcedMessage } = options;
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, forcedMessage);
      process.exit(1);
    }
    logger.info({ signal }, "signal received: stopping");
    stop()
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
