// Prints, after a run, how long each tier (vitest project) took: its files and tests, the wall
// time from its first file's start to its last file's end, and the summed file durations. The
// tiers run interleaved in one pool, so spans overlap; the table says where a run's time goes
// (README "What a fresh machine costs").
import { appendFileSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

interface TierTiming {
  files: number;
  tests: number;
  failed: number;
  firstStart: number;
  lastEnd: number;
  busyMs: number;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export default class TierTimingReporter implements Reporter {
  private readonly started = new Map<string, number>();
  private readonly tiers = new Map<string, TierTiming>();

  onTestModuleStart(module: TestModule): void {
    this.started.set(module.moduleId, Date.now());
  }

  onTestModuleEnd(module: TestModule): void {
    const end = Date.now();
    const start = this.started.get(module.moduleId) ?? end;
    const name = module.project.name;
    const tier = this.tiers.get(name) ?? {
      files: 0,
      tests: 0,
      failed: 0,
      firstStart: start,
      lastEnd: end,
      busyMs: 0,
    };
    tier.files += 1;
    for (const test of module.children.allTests()) {
      tier.tests += 1;
      if (test.result().state === "failed") tier.failed += 1;
    }
    tier.firstStart = Math.min(tier.firstStart, start);
    tier.lastEnd = Math.max(tier.lastEnd, end);
    tier.busyMs += module.diagnostic().duration;
    this.tiers.set(name, tier);
  }

  onTestRunEnd(): void {
    if (this.tiers.size === 0) return;
    const rows = [...this.tiers.entries()]
      .sort((a, b) => a[1].firstStart - b[1].firstStart)
      .map(([name, t]) =>
        [
          name.padEnd(12),
          String(t.files).padStart(5),
          String(t.tests).padStart(6),
          String(t.failed).padStart(6),
          seconds(t.lastEnd - t.firstStart).padStart(8),
          seconds(t.busyMs).padStart(8),
        ].join(" "),
      );
    const table = [
      "",
      "time per tier (wall: first file start to last file end; files: summed file durations)",
      `${"tier".padEnd(12)} ${"files".padStart(5)} ${"tests".padStart(6)} ${"failed".padStart(6)} ${"wall".padStart(8)} ${"files".padStart(8)}`,
      ...rows,
      "",
    ].join("\n");
    process.stdout.write(table);
    // Kept beside setup's step times, so a cold run's whole cost can be read in one place.
    const logDir = join(process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi"), "log");
    mkdirSync(logDir, { recursive: true });
    appendFileSync(join(logDir, "test-tiers.log"), `${new Date().toISOString()}${table}`);
  }
}
