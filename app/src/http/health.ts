// /health (process up), /health/ready (dependencies answer, including this instance's own
// Redis subscription, not just PING) and /metrics.
import { Router } from "express";
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

export async function runChecks(checks: ReadinessCheck[]) {
  const results = await Promise.all(
    checks.map(async (check) => {
      try {
        await withTimeout(check.run(CHECK_TIMEOUT_MS), CHECK_TIMEOUT_MS, check.name);
        return [check.name, { ok: true }] as const;
      } catch (error) {
        return [check.name, { ok: false, error: (error as Error).message || String(error) }] as const;
      }
    }),
  );
  return { ok: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}

export function healthRoutes(options: {
  version: string;
  metrics: Metrics;
  checks: ReadinessCheck[];
  shuttingDown: () => boolean;
}): Router {
  const router = Router();
  router.get("/health", (_req, res) => {
    res.json({ status: "healthy", timestamp: new Date().toISOString(), version: options.version });
  });
  router.get("/health/ready", async (_req, res) => {
    const result = await runChecks(options.checks);
    if (options.shuttingDown()) {
      result.ok = false;
      (result.checks as Record<string, { ok: boolean; error?: string }>).lifecycle = {
        ok: false,
        error: "shutting down",
      };
    }
    res
      .status(result.ok ? 200 : 503)
      .json({ status: result.ok ? "ready" : "unavailable", checks: result.checks });
  });
  router.get("/metrics", async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  return router;
}
