// The Express application: security headers, CORS, request ids and logs, metrics, the REST
// API under API_V1_STR, health, metrics, the OpenAPI document and (WEB_CONSOLE) the web console.
import { randomUUID } from "node:crypto";
import cors from "cors";
import express, { type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import { pinoHttp } from "pino-http";
import { trustProxy } from "./auth-guard.js";
import type { AppContext } from "./context.js";
import { errorHandler, notFoundHandler } from "./errors.js";
import { healthRoutes } from "./health.js";
import { openApiDocument } from "./openapi.js";
import { redactUrl } from "../observability/logger.js";
import { createRateLimiter } from "./rate-limit.js";
import { consoleRoutes } from "./console.js";
import { clientRoutes } from "./routes/clients.js";
import { roomRoutes } from "./routes/rooms.js";
import { userRoutes } from "./routes/users.js";

/** JSON bodies above this are refused with 413 (a 4000-character message is far below it). */
export const MAX_JSON_BYTES = 64 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** "/api/v1/rooms/:id/messages" → "/api/v1/rooms/{id}/messages" (the OpenAPI spelling). */
export function routeTemplate(req: Request): string {
  const path = req.route?.path;
  if (typeof path !== "string") return "unmatched";
  return `${req.baseUrl}${path}`.replace(/:(\w+)/g, "{$1}") || "/";
}

function metricsMiddleware(ctx: AppContext) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const endpoint = routeTemplate(req);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.metrics.httpRequests.inc({ method: req.method, endpoint, status: String(res.statusCode) });
      ctx.metrics.httpDuration.observe({ method: req.method, endpoint }, seconds);
    });
    next();
  };
}

export function buildApp(ctx: AppContext, lifecycle: { shuttingDown: boolean }): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  // Behind nginx: believe X-Forwarded-For for exactly TRUSTED_PROXY_HOPS private hops.
  app.set("trust proxy", trustProxy(ctx.config.TRUSTED_PROXY_HOPS));
  // While stopping, every response closes its keep-alive connection: a busy client reusing one
  // would otherwise keep the instance serving until the drain timeout and then have a request
  // cut mid-flight (found by chaos/faults/sigterm-api-instance). Requests already sent are
  // still answered; the client's next one opens a connection elsewhere.
  app.use((_req, res, next) => {
    if (lifecycle.shuttingDown) res.setHeader("Connection", "close");
    next();
  });

  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId: (req, res) => {
        const given = req.headers["x-request-id"];
        const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader("X-Request-Id", id);
        return id;
      },
      autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? "") },
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
          remote: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      customSuccessMessage: (req, res, ms) =>
        `${req.method} ${redactUrl(req.url)} ${res.statusCode} ${Math.round(ms)}ms`,
    }),
  );
  app.use(metricsMiddleware(ctx));
  app.use(helmet());
  const origins = ctx.config.BACKEND_CORS_ORIGINS;
  if (origins.length > 0) {
    app.use(
      cors({
        origin: origins.includes("*") ? true : origins,
        credentials: !origins.includes("*"),
        exposedHeaders: ["X-Request-Id", "Retry-After", "RateLimit", "RateLimit-Policy"],
        maxAge: 600,
      }),
    );
  }

  app.use(
    healthRoutes({
      version: ctx.version,
      metrics: ctx.metrics,
      checks: ctx.readiness,
      logger: ctx.logger,
      shuttingDown: () => lifecycle.shuttingDown,
    }),
  );

  const prefix = ctx.config.API_V1_STR;
  const document = openApiDocument({ prefix, version: ctx.version, title: ctx.config.PROJECT_NAME });
  app.get(`${prefix}/openapi.json`, (_req, res) => {
    res.json(document);
  });

  const limit = createRateLimiter(ctx);
  if (ctx.config.WEB_CONSOLE) app.use(consoleRoutes(ctx, limit));
  const api = express.Router();
  api.use(
    express.json({ limit: MAX_JSON_BYTES, strict: false, type: ["application/json", "application/*+json"] }),
  );
  api.use(ctx.authGuard.middleware());
  api.use(clientRoutes(ctx, limit));
  api.use(userRoutes(ctx, limit));
  api.use(roomRoutes(ctx, limit));
  app.use(prefix, api);

  app.use(notFoundHandler);
  app.use(errorHandler(ctx));
  return app;
}
