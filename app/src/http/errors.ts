// The error envelope for everything that goes wrong: {"error": {"code", "message", "details"?}}.
import type { ErrorRequestHandler, RequestHandler } from "express";
import {
  databaseUnavailable,
  DATABASE_RETRY_AFTER_SECONDS,
  isDatabaseUnavailable,
} from "../db/unavailable.js";
import { ApiError } from "../domain/errors.js";
import type { AppContext } from "./context.js";

export function sendError(
  res: Parameters<RequestHandler>[1],
  status: number,
  code: string,
  message: string,
  details?: unknown,
) {
  // Read by the auth-failure guard (an expired credential is not a guess).
  res.locals.errorCode = code;
  res.status(status).json({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 404, "not_found", `no route for ${req.method} ${req.path}`);
};

/** body-parser failures carry a `type`; map them onto the contract's statuses. */
function bodyParserError(error: unknown): ApiError | undefined {
  const e = error as { type?: string; limit?: number; status?: number };
  switch (e?.type) {
    case "entity.parse.failed":
      return new ApiError(400, "malformed_json", "the request body is not valid JSON");
    case "entity.too.large":
      return new ApiError(413, "payload_too_large", `the request body is larger than ${e.limit} bytes`);
    case "encoding.unsupported":
    case "charset.unsupported":
      return new ApiError(400, "malformed_request", "the request body must be UTF-8 JSON");
    case "request.aborted":
      return new ApiError(400, "malformed_request", "the request body was not received completely");
    default:
      return undefined;
  }
}

export function errorHandler(ctx: AppContext): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = error instanceof ApiError ? error : bodyParserError(error);
    if (known) return sendError(res, known.status, known.code, known.message, known.details);
    if (isDatabaseUnavailable(error)) {
      // Not a bug in the service: PostgreSQL is restarting or unreachable. Say so, and when to retry.
      req.log?.warn({ err: (error as Error).message }, "database unavailable");
      const unavailable = databaseUnavailable();
      res.setHeader("Retry-After", String(DATABASE_RETRY_AFTER_SECONDS));
      return sendError(res, unavailable.status, unavailable.code, unavailable.message);
    }
    req.log?.error({ err: error }, "request failed");
    ctx.reporter.capture(error, { method: req.method, path: req.route?.path ?? "unmatched" });
    sendError(res, 500, "internal_error", "the server failed to handle the request");
  };
}
