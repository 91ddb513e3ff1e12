// `scripts/pulumi-toolchain env` with a user's own pulumi on PATH (issue 28): a new enough one is
// used as it is (no PULUMI_HOME swap, plugin downloads untouched, nothing put before it on PATH);
// an older one is refused with what to do; --go-built still gives the Go-built CLI with its own
// home. The user's CLI here is a stand-in script that answers `pulumi version` the way the real
// one does (the script only ever asks it that).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/paths";
import { toolchainVersion } from "./support/pulumi-engine";

const toolchain = join(repoRoot, "scripts", "pulumi-toolchain");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A folder with a `pulumi` that says it is `version`, and a PATH that finds it first. */
function userPulumi(version: string): { bin: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "user-pulumi-"));
  dirs.push(dir);
  const bin = join(dir, "pulumi");
  writeFileSync(bin, `#!/bin/sh\n[ "$1" = version ] && echo ${version}\n`);
  chmodSync(bin, 0o755);
  return { bin, path: `${dir}:${process.env.PATH}` };
}

const env = (path: string, ...args: string[]) =>
  spawnSync(toolchain, ["env", ...args], {
    encoding: "utf8",
    env: { ...process.env, PATH: path, PULUMI_HOME: "/home/someone/.pulumi" },
  });

describe("scripts/pulumi-toolchain env with the user's own pulumi", () => {
  const minimum = toolchainVersion("PULUMI_MIN_VERSION");

  it("uses a new enough CLI as it is: its PULUMI_HOME, login and plugin downloads stay", () => {
    const user = userPulumi("v3.290.1");
    const result = env(user.path);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`# your pulumi v3.290.1 (${user.bin}) is new enough (>= ${minimum})`);
    expect(result.stdout).not.toMatch(
      /PULUMI_HOME|PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION|PULUMI_BACKEND/,
    );
    // Only helm may be added, and after the user's PATH: never before their pulumi.
    for (const line of result.stdout.split("\n").filter((l) => l.startsWith("export PATH=")))
      expect(line).toMatch(/^export PATH="\$PATH":\S+\/helm-v[\d.]+\/bin$/);
    const json = JSON.parse(env(user.path, "--json").stdout) as Record<string, string>;
    expect(Object.keys(json).filter((k) => k !== "PATH")).toEqual([]);
    if (json.PATH) expect(json.PATH.startsWith(user.path)).toBe(true);
  });

  it(`refuses a CLI older than ${minimum}, naming it and what to do`, () => {
    const user = userPulumi("v3.100.0");
    const result = env(user.path);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`your pulumi v3.100.0 (${user.bin}) is older than ${minimum}`);
    expect(result.stderr).toContain("env --go-built");
  });

  it("gives the Go-built CLI with its own PULUMI_HOME only when asked (--go-built, --cli newest)", () => {
    const user = userPulumi("v3.290.1");
    for (const [args, version] of [
      [["--go-built"], toolchainVersion("PULUMI_VERSION")],
      [["--cli", "newest"], toolchainVersion("PULUMI_NEWEST_VERSION")],
    ] as const) {
      const json = JSON.parse(env(user.path, "--json", ...args).stdout) as Record<string, string>;
      expect(json.PATH!.split(":")[0]).toMatch(new RegExp(`/pulumi-${version}/bin$`));
      expect(json).toMatchObject({ PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" });
      expect(json.PULUMI_HOME).toMatch(/\/pulumi-home$/);
    }
  });
});
