// The toolchain's self-checks (`scripts/pulumi-toolchain check`: the same functions a fresh build
// is checked with before it enters the cache) must give the same answer every time, also while
// every CPU is busy, as on a cold machine compiling in the background. A check that races (the
// `prog -help | grep -q` of issue 22 failed 40 times in 200 busy runs) fails this test: one
// miss in the repetitions is a failure.
import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/paths";

const REPETITIONS = 20;
const toolchain = join(repoRoot, "scripts", "pulumi-toolchain");

// One busy loop per CPU; each also stops by itself after 15 minutes.
function startCpuBurners(): ChildProcess[] {
  return Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ["-e", "const end = Date.now() + 900_000; while (Date.now() < end) {}"], {
      stdio: "ignore",
    }),
  );
}

describe("scripts/pulumi-toolchain check under CPU load", () => {
  let burners: ChildProcess[] = [];

  beforeAll(async () => {
    const first = await execa(toolchain, ["check"], { reject: false, all: true });
    if (first.exitCode !== 0)
      throw new Error(
        `the toolchain is not built or broken (build it with: bash scripts/setup --for test):\n${first.all}`,
      );
    burners = startCpuBurners();
  });

  afterAll(() => {
    for (const burner of burners) burner.kill("SIGKILL");
  });

  it(`passes ${REPETITIONS} times in a row while every CPU is busy`, { timeout: 900_000 }, async () => {
    expect(burners.every((b) => b.exitCode === null)).toBe(true);
    const misses: string[] = [];
    for (let run = 1; run <= REPETITIONS; run++) {
      const result = await execa(toolchain, ["check"], { reject: false, all: true });
      // Every tool is checked: a run that skipped one would not be the same check.
      const oks = (result.all ?? "").split("\n").filter((line) => line.startsWith("ok ")).length;
      if (result.exitCode !== 0 || oks < 7) misses.push(`run ${run}: exit ${result.exitCode}\n${result.all}`);
    }
    expect(misses).toEqual([]);
  });
});
