// Brute-force defence: failed authentications (any 401 but an expired credential: bad API key,
// bad access token, bad refresh token, a WebSocket upgrade with a bad token) are counted per
// client address
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

/** Where a proxy in front of the service may sit: loopback and private networks. */
export const PROXY_NETWORKS = ["loopback", "linklocal", "uniquelocal"];
const privateAddress = proxyAddr.compile(PROXY_NETWORKS);

/** Decides, hop by hop from the socket's peer outwards, whose X-Forwarded-For entry is believed. */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * Express's `trust proxy` (shared with the WebSocket gateway): exactly `hops` proxies, each on a
 * private network. The edge proxy (nginx) replaces X-Forwarded-For with the address it saw, so
 * with one hop the client's address is the last entry and anything a client wrote is ignored;
 * trusting every private hop instead let a client behind a private address pick its own
 * address per request (and escape the per-address limits, or fill a victim's).
 */
export function trustProxy(hops: number): TrustProxy {
  return (address, hop) => hop < hops && privateAddress(address, hop);
}

/** The client's address as Express computes `req.ip`, for requests Express never sees (upgrades). */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  try {
    return proxyAddr(req, trust);
  } catch {
    return req.socket.remoteAddress ?? "unknown";
  }
}

const WINDOW_MS = 60_000;

/**
 * 401 codes that are not guesses: the credential was genuine (its signature or digest matched)
 * but has expired. Normal clients send these all the time (a tab woken from sleep, a clock
 * ahead); counting them would let a NAT full of them lock itself out.
 */
const EXPIRED_CREDENTIAL = new Set(["token_expired", "refresh_token_expired"]);

/** Whether a 401 with this error code counts as a failed authentication. */
export function isGuess(code: string | undefined): boolean {
  return code === undefined || !EXPIRED_CREDENTIAL.has(code);
}

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
        if (res.statusCode === 401 && isGuess(res.locals.errorCode as string | undefined))
          this.recordFailure(address);
      });
      next();
    };
  }
}
