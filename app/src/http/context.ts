// What request handlers need, built once by the server.
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "pino";
import type { Config } from "../config/env.js";
import type { MessageWriter } from "../domain/message-writer.js";
import type { TokenService } from "../domain/tokens.js";
import type { Metrics } from "../observability/metrics.js";
import type { ErrorReporter } from "../observability/sentry.js";
import type { Hub } from "../ws/hub.js";
import type { AuthFailureGuard } from "./auth-guard.js";
import type { ReadinessCheck } from "./health.js";

export interface AppContext {
  config: Config;
  version: string;
  pool: pg.Pool;
  /** Commands connection (rate-limit counters). */
  redis: Redis;
  tokens: TokenService;
  /** Failed authentications per address (brute-force defence, REST and WebSocket). */
  authGuard: AuthFailureGuard;
  writer: MessageWriter;
  hub: Hub;
  metrics: Metrics;
  logger: Logger;
  reporter: ErrorReporter;
  readiness: ReadinessCheck[];
  /** Tracks writes in flight so shutdown can drain them. */
  track<T>(work: Promise<T>): Promise<T>;
}
