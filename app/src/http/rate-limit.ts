// REST rate limit per principal (API key's client, or user), counted in Redis so the limit
// holds across instances. If Redis is down requests pass: availability over strictness.
import type { Request } from "express";
import { ipKeyGenerator, rateLimit } from "express-rate-limit";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { AppContext } from "./context.js";
import { sendError } from "./errors.js";

export function createRateLimiter(ctx: AppContext) {
  return rateLimit({
    windowMs: 60_000,
    limit: ctx.config.RATE_LIMIT_PER_MINUTE,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    passOnStoreError: true,
    keyGenerator: (req: Request) => req.principal ?? `ip:${ipKeyGenerator(req.ip ?? "unknown")}`,
    store: new RedisStore({
      prefix: `${ctx.config.REDIS_KEY_PREFIX}ratelimit:`,
      sendCommand: (command: string, ...args: string[]) =>
        ctx.redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: (_req, res, _next, options) => {
      sendError(
        res,
        429,
        "rate_limited",
        `too many requests: at most ${options.limit} per minute; retry after the time in the Retry-After header`,
      );
    },
  });
}
