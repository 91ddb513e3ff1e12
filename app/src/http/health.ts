// /health (process up), /health/ready (dependencies answer, including this instance's own
// Redis subscription, not just PING) and /metrics.
//
// /health/ready is reachable through the load balancer from private networks (the smoke test
// and `helm test` use it), so it must stay cheap and say nothing about the inside: one round of
// probes serves every request for a second (concurrent requests share it), and the answer names
// which dependency fails but not why; the reason (which names hosts) goes to the log.
import { Router } from "express";
import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.js";

export interface ReadinessCheck {
  name: string;
  run(timeoutMs: number): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

function withTimeout(work: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface CheckResult {
  ok: boolean;
  error?: string;
}

export async function runChecks(
  checks: ReadinessCheck[],
): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
  const results = await Promise.all(
    checks.map(async (check): Promise<[string, CheckResult]> => {
      try {
        await withTimeout(check.run(CHECK_TIMEOUT_MS), CHECK_TIMEOUT_MS, check.name);
        return [check.name, { ok: true }];
      } catch (error) {
        return [check.name, { ok: false, error: (error as Error).message || String(error) }];
      }
    }),
  );
  return { ok: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}

type Readiness = Awaited<ReturnType<typeof runChecks>>;

/** How long one round of readiness probes answers every request. */
export const READINESS_CACHE_MS = 1000;

/** runChecks at most once per `maxAgeMs`; callers meanwhile share the last (or running) round. */
export function cachedChecks(checks: ReadinessCheck[], logger: Logger, maxAgeMs = READINESS_CACHE_MS) {
  let last: { at: number; result: Promise<Readiness> } | undefined;
  return (): Promise<Readiness> => {
    const now = Date.now();
    if (last && now - last.at < maxAgeMs) return last.result;
    const result = runChecks(checks).then((r) => {
      const failing = Object.entries(r.checks).filter(([, c]) => !c.ok);
      if (failing.length > 0) {
        logger.warn({ checks: Object.fromEntries(failing.map(([name, c]) => [name, c.error])) }, "not ready");
      }
      return r;
    });
    last = { at: now, result };
    return result;
  };
}

export function healthRoutes(options: {
  version: string;
  metrics: Metrics;
  checks: ReadinessCheck[];
  logger: Logger;
  shuttingDown: () => boolean;
}): Router {
  const router = Router();
  const readiness = cachedChecks(options.checks, options.logger);
  router.get("/health", (_req, res) => {
    res.json({ status: "healthy", timestamp: new Date().toISOString(), version: options.version });
  });
  router.get("/health/ready", async (_req, res) => {
    const result = await readiness();
    const checks: Record<string, { ok: boolean }> = {};
    for (const [name, check] of Object.entries(result.checks)) checks[name] = { ok: check.ok };
    let ok = result.ok;
    if (options.shuttingDown()) {
      ok = false;
      checks.lifecycle = { ok: false };
    }
    res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "unavailable", checks });
  });
  router.get("/metrics", async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  return router;
}
