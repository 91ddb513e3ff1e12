// Recognises "PostgreSQL is not reachable right now" (refused/reset connections, a server
// shutting down or starting up, a pool that cannot connect in time) so callers answer 503 with a
// clear error instead of a 500: the request can be retried and nothing was half-written (every
// write is one transaction, and a retry with the same client_msg_id is idempotent).
import { ApiError } from "../domain/errors.js";

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

// SQLSTATEs: class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown,
// 57P03 cannot_connect_now (starting up / shutting down), 53300 too_many_connections.
const UNAVAILABLE_SQLSTATES = /^(08...|57P01|57P02|57P03|53300)$/;

// node-postgres reports a dropped socket or a pool timeout with plain messages, no code.
const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 3) return false;
  const e = error as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.code === "string" && (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.test(e.code)))
    return true;
  if (typeof e.message === "string" && MESSAGES.some((m) => m.test(e.message as string))) return true;
  // Node's happy-eyeballs connect fails with an AggregateError of per-address errors.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1)))
    return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/** Retry-After (seconds) sent with database_unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

export const databaseUnavailable = () =>
  new ApiError(
    503,
    "database_unavailable",
    "the database is unavailable right now; retry the request (it is safe to repeat)",
  );
