// Brute-force defence: failed authentications (any 401: bad API key, bad or expired access
// token, bad refresh token, a WebSocket upgrade with a bad token) are counted per client address
// in Redis, across instances, in a fixed one-minute window. An address at the limit gets 429 with
// Retry-After for every authenticated request until the window ends — before its credential is
// even looked at, so guessing stops (a right guess would otherwise still succeed). The general
// rate limit counts per principal and runs after authentication, so it cannot stop this alone.
import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { ipKeyGenerator } from "express-rate-limit";
import type { Redis } from "ioredis";
import proxyAddr from "proxy-addr";
import { sendError } from "./errors.js";

/** Proxies whose X-Forwarded-For is believed (Express's `trust proxy`, shared with the WebSocket gateway). */
export const TRUSTED_PROXIES = ["loopback", "linklocal", "uniquelocal"];
const trusted = proxyAddr.compile(TRUSTED_PROXIES);

/** The client's address as Express computes `req.ip`, for requests Express never sees (upgrades). */
export function clientAddress(req: IncomingMessage): string {
  try {
    return proxyAddr(req, trusted);
  } catch {
    return req.socket.remoteAddress ?? "unknown";
  }
}

const WINDOW_MS = 60_000;

export class AuthFailureGuard {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; limit: number; windowMs?: number },
  ) {}

  private key(address: string): string {
    // IPv6 addresses are grouped by /56 (one subscriber's prefix), as the REST limiter does.
    return `${this.options.prefix}authfail:${ipKeyGenerator(address)}`;
  }

  /** Seconds until `address` may authenticate again; 0 when it may now (or Redis is down). */
  async retryAfterSeconds(address: string): Promise<number> {
    try {
      // Every authenticated request asks, and almost every answer is "not blocked": one GET.
      const count = await this.redis.get(this.key(address));
      if (Number(count ?? 0) < this.options.limit) return 0;
      const ttl = await this.redis.pttl(this.key(address));
      return Math.max(1, Math.ceil((ttl > 0 ? ttl : (this.options.windowMs ?? WINDOW_MS)) / 1000));
    } catch {
      return 0; // availability over strictness, like the REST rate limit
    }
  }

  recordFailure(address: string): void {
    this.redis
      .multi()
      .incr(this.key(address))
      .pexpire(this.key(address), this.options.windowMs ?? WINDOW_MS, "NX")
      .exec()
      .catch(() => undefined);
  }

  /** Express middleware for the REST API: refuses blocked addresses, counts 401 answers. */
  middleware() {
    return async (req: Request, res: Response, next: NextFunction) => {
      const address = req.ip ?? req.socket.remoteAddress ?? "unknown";
      const wait = await this.retryAfterSeconds(address);
      if (wait > 0) {
        res.setHeader("Retry-After", String(wait));
        return sendError(
          res,
          429,
          "rate_limited",
          `too many failed authentications from this address (at most ${this.options.limit} per minute); retry after the time in the Retry-After header`,
        );
      }
      res.once("finish", () => {
        if (res.statusCode === 401) this.recordFailure(address);
      });
      next();
    };
  }
}
