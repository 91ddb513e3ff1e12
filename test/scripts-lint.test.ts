// The project's shell scripts: shellcheck-clean, and free of the pipelines that fail at random
// under `set -o pipefail` (set by every script; a sourced library inherits it) — a consumer that stops reading early (`grep -q`, `grep -m`, `head`,
// `awk '... exit'`, `sed '...q'`) leaves the writer to die of SIGPIPE, and pipefail reports the
// pipeline as failed (issue 22: a cold toolchain build failed one time in five). Capture the
// output first, then match it.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/paths";

const tracked = execFileSync("git", ["ls-files"], { cwd: repoRoot, encoding: "utf8" })
  .split("\n")
  .filter(Boolean);

const shellScripts = tracked.filter((file) => {
  if (file.endsWith(".sh")) return true;
  if (/\.[a-z]+$/.test(file) && !file.endsWith(".sh")) return false;
  try {
    return /^#!.*\b(ba)?sh\b/.test(readFileSync(join(repoRoot, file), "utf8").split("\n", 1)[0] ?? "");
  } catch {
    return false;
  }
});

// A pipe into a reader that may exit before the writer is done.
const EARLY_EXIT_READER =
  /\|\s*(grep\s+(-[a-zA-Z]*[qm][a-zA-Z]*\b|--quiet|--max-count)|head\b|awk\s+'[^']*\bexit\b|sed\s+(-[a-zA-Z]+\s+)*'[^']*[;{'\s]q\s*[;}'])/;

/**
 * Lines that pipe into an early-exit reader (comments ignored). Checked in every script, with or
 * without pipefail of its own: a sourced library runs under its caller's options.
 */
function racyPipelines(source: string): string[] {
  return source
    .split("\n")
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => !line.trimStart().startsWith("#") && EARLY_EXIT_READER.test(line))
    .map(({ line, n }) => `${n}: ${line.trim()}`);
}

describe("the racy-pipeline finder", () => {
  it("finds each kind of early-exit reader, and not the captured form", () => {
    const script = [
      "set -euo pipefail",
      "prog -help 2>&1 | grep -q -- '-nodeargs'",
      "x=$(list | head -n1)",
      "y=$(list | awk '$3 == 1 {print; exit}')",
      "z=$(list | sed -n '/a/{p;q}')",
      "if ! list | grep -qx name; then :; fi",
      "out=$(prog -help 2>&1); [[ $out == *nodeargs* ]]",
      "# a comment: prog | grep -q x",
    ].join("\n");
    expect(racyPipelines(script).map((l) => Number(l.split(":")[0]))).toEqual([2, 3, 4, 5, 6]);
  });
});

describe("the project's shell scripts", () => {
  it("are found (setup, toolchain, cluster, chart scripts)", () => {
    for (const expected of [
      "scripts/setup",
      "scripts/pulumi-toolchain",
      "scripts/cluster",
      "charts/chatapi/scripts/create-secrets.sh",
    ])
      expect(shellScripts).toContain(expected);
  });

  it("have no pipeline that races with SIGPIPE under pipefail", () => {
    const found = shellScripts.flatMap((file) =>
      racyPipelines(readFileSync(join(repoRoot, file), "utf8")).map((line) => `${file}:${line}`),
    );
    expect(found).toEqual([]);
  });

  it("pass shellcheck", () => {
    const version = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    if (version.error)
      throw new Error("shellcheck is not installed (scripts/setup --for test installs the Debian package)");
    const result = spawnSync("shellcheck", ["-x", "--severity=style", ...shellScripts], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
