// Optional error reporting: @sentry/node is loaded only when SENTRY_DSN is set, so instances
// without it pay nothing for its instrumentation.
import type { Logger } from "pino";

export interface ErrorReporter {
  capture(error: unknown, context?: Record<string, unknown>): void;
  flush(timeoutMs: number): Promise<void>;
}

export const noReporter: ErrorReporter = { capture: () => undefined, flush: async () => undefined };

export async function initSentry(
  dsn: string | undefined,
  options: { environment: string; release: string; logger: Logger },
): Promise<ErrorReporter> {
  if (!dsn) return noReporter;
  const Sentry = await import("@sentry/node");
  Sentry.init({
    dsn,
    environment: options.environment,
    release: `chatapi@${options.release}`,
    // Errors only: no tracing (default PII stays off: request bodies may hold message text).
    tracesSampleRate: 0,
  });
  options.logger.info("error reporting to Sentry enabled");
  return {
    capture: (error, context) => {
      Sentry.captureException(error, context ? { extra: context } : undefined);
    },
    flush: async (timeoutMs) => {
      await Sentry.flush(timeoutMs);
    },
  };
}
