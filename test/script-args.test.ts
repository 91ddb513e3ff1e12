// Every script answers a mistyped command line the same way: exit code 2, one line naming the
// script and what was wrong, then its usage; never a stack trace (issue 28: `scripts/local up
// --image x` printed a Node TypeError). Each runs with a bad option before it touches anything.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/paths";

const tsx = join(repoRoot, "node_modules", ".bin", "tsx");
const script = (name: string) => join(repoRoot, "scripts", name);

// [name in the error line, command, arguments]
const cases: [string, string, string[]][] = [
  ["local", script("local"), ["up", "--image", "x"]],
  ["local", script("local"), ["up", "--stack"]],
  ["local", script("local"), ["upp"]],
  ["local", script("local"), ["up", "--timeout", "soon"]],
  ["smoke", script("smoke"), ["--url", "https://localhost:8443/", "--bogus"]],
  ["smoke", script("smoke"), []],
  ["render", script("render"), ["--bogus"]],
  ["render-compose", script("render-compose"), ["--stack"]],
  ["render-all", script("render-all"), ["--bogus"]],
  ["render-all", script("render-all"), []],
  ["app-image", script("app-image"), ["--bogus"]],
  ["chart:values", tsx, [script("chart-values.ts"), "--bogus"]],
  ["preview-comment", script("preview-comment"), ["--bogus", "x"]],
  ["preview-stack", script("preview-stack"), ["--bogus"]],
  ["preview-stack", script("preview-stack"), ["ci", "out", "--bogus"]],
  ["engine-stack", script("engine-stack"), ["--bogus"]],
  ["engine-stack", script("engine-stack"), ["init", "--stack"]],
  ["pulumi-toolchain", script("pulumi-toolchain"), ["--bogus"]],
  ["pulumi-toolchain", script("pulumi-toolchain"), ["build", "--only", "kubectl"]],
  ["pulumi-toolchain", script("pulumi-toolchain"), ["env", "--bogus"]],
  ["pulumi-toolchain", script("pulumi-toolchain"), ["check", "--bogus"]],
  ["setup", script("setup"), ["--for"]],
  ["setup", script("setup"), ["--for", "prod"]],
  ["images", script("images"), ["--bogus"]],
  ["images", script("images"), ["--only", "mysql"]],
  ["images-selftest", script("images-selftest"), ["--bogus"]],
  ["cluster", script("cluster"), ["--bogus"]],
  ["cluster", script("cluster"), ["up", "--bogus"]],
  ["cluster", script("cluster"), ["down", "--all"]],
  ["policy", tsx, [join(repoRoot, "policies", "offline", "cli.ts"), "--bogus"]],
  ["chaos", tsx, [join(repoRoot, "chaos", "run.ts"), "--bogus"]],
  ["bench", tsx, [join(repoRoot, "bench", "run.ts"), "--bogus"]],
  ["write-cost", tsx, [join(repoRoot, "bench", "tools", "write-cost.ts"), "--bogus"]],
];

describe("a wrong command line", () => {
  it.each(cases)("%s %s %j: one line, the usage, exit 2", (name, command, args) => {
    const result = spawnSync(command, args, { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0], result.stderr).toMatch(new RegExp(`^${name.replace(":", "\\:")}: \\S`));
    expect(result.stderr).toMatch(/usage/i);
    expect(result.stderr, "no stack trace").not.toMatch(/^\s+at |TypeError|node:internal/m);
    expect(result.stdout).toBe("");
    expect(result.status, result.stderr).toBe(2);
  });
});
