// scripts/images-selftest in the docker tier: the offline images (built by scripts/setup --for
// test) run for real and keep the official images' contracts the stacks rely on.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../toolbox/exec";
import { repoRoot } from "../support/paths";

describe("offline images", () => {
  it("pass scripts/images-selftest (every image run and probed)", async () => {
    const result = await run(join(repoRoot, "scripts", "images-selftest"), [], { reject: false });
    const summary = /images-selftest: (\d+) passed, (\d+) failed/.exec(result.all);
    expect(result.exitCode, result.all.split("\n").slice(-40).join("\n")).toBe(0);
    expect(Number(summary?.[1])).toBeGreaterThanOrEqual(50);
    expect(Number(summary?.[2])).toBe(0);
  }, 900_000);
});
