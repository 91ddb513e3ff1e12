// The GitHub Actions workflows cannot run here; actionlint (built by scripts/setup --for test)
// checks their syntax, expressions and embedded shell (with shellcheck), and the rules below
// check what the project promises: pinned actions, the engine from scripts/pulumi-toolchain,
// the policy pack as a step that fails the job.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cacheDir, repoRoot } from "./support/paths";

const ACTIONLINT_VERSION = "v1.7.12"; // = scripts/lib/setup-common.sh
const actionlint = join(cacheDir, `actionlint-${ACTIONLINT_VERSION}`, "actionlint");
const workflowDir = join(repoRoot, ".github", "workflows");
const files = [
  ...readdirSync(workflowDir).map((f) => join(workflowDir, f)),
  join(repoRoot, ".github", "actions", "pulumi-engine", "action.yml"),
];

interface Step {
  uses?: string;
  run?: string;
  name?: string;
}
type Doc = { jobs?: Record<string, { steps?: Step[] }>; runs?: { steps?: Step[] } };

const steps = (file: string): Step[] => {
  const doc = parse(readFileSync(file, "utf8")) as Doc;
  return [...Object.values(doc.jobs ?? {}).flatMap((j) => j.steps ?? []), ...(doc.runs?.steps ?? [])];
};

describe(".github workflows", () => {
  it("pass actionlint (with shellcheck on every run: block)", () => {
    if (!existsSync(actionlint))
      throw new Error(`actionlint is missing (${actionlint}): run scripts/setup --for test`);
    const shellcheck = spawnSync("sh", ["-c", "command -v shellcheck"], { encoding: "utf8" }).stdout.trim();
    const args = ["-no-color", ...(shellcheck ? [`-shellcheck=${shellcheck}`] : [])];
    const result = spawnSync(actionlint, args, { cwd: repoRoot, encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(shellcheck, "shellcheck (Debian package) should be installed for the run: checks").not.toBe("");
  });

  it("pin every action to a commit SHA (with its tag as a comment) or use a local one", () => {
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const step of steps(file).filter((s) => s.uses)) {
        if (step.uses!.startsWith("./")) continue;
        expect(step.uses, file).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
        expect(text, `${step.uses} has a "# vX.Y.Z" comment`).toMatch(
          new RegExp(`${step.uses!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+`),
        );
      }
    }
  });

  it("take the Pulumi engine from scripts/pulumi-toolchain (versions pinned in scripts/toolchain-versions only)", () => {
    const action = readFileSync(files.at(-1)!, "utf8");
    expect(action).toContain("scripts/pulumi-toolchain build --only pulumi");
    expect(action).toContain("hashFiles('scripts/toolchain-versions', 'scripts/pulumi-toolchain')");
    const versions = readFileSync(join(repoRoot, "scripts", "toolchain-versions"), "utf8");
    const pulumiVersion = /^PULUMI_VERSION=(\S+)/m.exec(versions)![1]!;
    for (const file of files) expect(readFileSync(file, "utf8"), file).not.toContain(pulumiVersion.slice(1));
  });

  it("run the policy pack as failing steps: offline over every stack, and in every preview and up", () => {
    const preview = steps(join(workflowDir, "pulumi-preview.yml"));
    const up = steps(join(workflowDir, "pulumi-up.yml"));
    const stackFiles = readdirSync(repoRoot)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => !!s);
    for (const list of [preview, up]) {
      const offline = list.find((s) => s.run?.startsWith("npm run policy"))!;
      for (const stack of stackFiles) expect(offline.run).toContain(`--stack ${stack}`);
      const runs = list.filter((s) => s.run?.includes("scripts/preview-stack"));
      expect(runs.length).toBeGreaterThan(0);
      for (const s of runs) {
        expect(s.run).not.toContain("--no-policy");
        expect(s.run).not.toMatch(/\|\| *true|; *true/);
      }
    }
    expect(up.find((s) => s.run?.startsWith("pulumi up"))!.run).toContain("--policy-pack policies");
  });

  it("scripts they call exist and are executable", () => {
    for (const script of ["pulumi-toolchain", "engine-stack", "preview-stack", "preview-comment"])
      execFileSync("test", ["-x", join(repoRoot, "scripts", script)]);
  });
});
