// The GitHub Actions workflows cannot run here; actionlint (built by scripts/setup --for test)
// checks their syntax, expressions and embedded shell (with shellcheck), and the rules below
// check what the project promises: pinned actions, the official Pulumi CLI from pulumi/actions at
// the version scripts/toolchain-versions pins (the Go-built engine only as the offline
// alternative), a login to the backend (Pulumi Cloud token or a bucket with OIDC), the policy
// pack as a step that fails the job, previews commented on pull requests, the chart packaged.
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
  if?: string;
  with?: Record<string, string>;
}
interface Job {
  steps?: Step[];
  env?: Record<string, string>;
  permissions?: Record<string, string>;
}
type Doc = {
  jobs?: Record<string, Job>;
  runs?: { steps?: Step[] };
  inputs?: Record<string, { default?: string }>;
};

const docOf = (file: string) => parse(readFileSync(file, "utf8")) as Doc;
const steps = (file: string): Step[] => {
  const doc = docOf(file);
  return [...Object.values(doc.jobs ?? {}).flatMap((j) => j.steps ?? []), ...(doc.runs?.steps ?? [])];
};
const workflows = ["pulumi-preview.yml", "pulumi-up.yml"].map((f) => join(workflowDir, f));
const jobs = (file: string) => Object.entries(docOf(file).jobs ?? {});

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

  it("install the official CLI with pulumi/actions at the version scripts/toolchain-versions pins, the Go-built engine only when asked", () => {
    const actionFile = files.at(-1)!;
    const action = docOf(actionFile);
    expect(action.inputs?.engine?.default).toBe("official");
    const actionSteps = steps(actionFile);
    const official = actionSteps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    expect(official.if).toBe("inputs.engine == 'official'");
    expect(official.with).toEqual({ "pulumi-version": "${{ steps.version.outputs.pulumi }}" });
    expect(actionSteps.find((s) => s.name === "The pinned CLI version")!.run).toContain(
      "s/^PULUMI_NEWEST_VERSION=v//p' scripts/toolchain-versions",
    );
    // The offline alternative: every Go step runs only for engine: go-built.
    const goBuilt = actionSteps.filter(
      (s) => /setup-go|actions\/cache/.test(s.uses ?? "") || s.run?.includes("pulumi-toolchain"),
    );
    expect(goBuilt.length).toBe(3);
    for (const s of goBuilt) expect(s.if, s.name ?? s.uses).toBe("inputs.engine == 'go-built'");
    expect(readFileSync(actionFile, "utf8")).toContain("scripts/pulumi-toolchain build --only pulumi");
    // No version is written anywhere but scripts/toolchain-versions.
    const versions = readFileSync(join(repoRoot, "scripts", "toolchain-versions"), "utf8");
    for (const name of ["PULUMI_VERSION", "PULUMI_NEWEST_VERSION"]) {
      const version = new RegExp(`^${name}=v(\\S+)`, "m").exec(versions)![1]!;
      for (const file of files) expect(readFileSync(file, "utf8"), file).not.toContain(version);
    }
    // Every job that needs the engine gets it from this action.
    for (const file of workflows)
      for (const [name, job] of jobs(file))
        if ((job.steps ?? []).some((s) => /preview-stack|engine-stack|^pulumi /.test(s.run ?? "")))
          expect(
            job.steps!.some((s) => s.uses === "./.github/actions/pulumi-engine"),
            `${file} ${name}`,
          ).toBe(true);
  });

  it("log in to the environments' backend: a Pulumi Cloud token, or a bucket with OIDC credentials", () => {
    for (const file of workflows) {
      const deploying = jobs(file).filter(([, job]) =>
        (job.steps ?? []).some((s) => /preview-stack "\$\{\{ matrix.stack }}"|^pulumi up/.test(s.run ?? "")),
      );
      expect(deploying.length, file).toBe(1);
      for (const [name, job] of deploying) {
        expect(job.env, `${file} ${name}`).toMatchObject({
          PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
          PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}",
          PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        });
        expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
        const oidc = job.steps!.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
        expect(oidc.with).toEqual({
          "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
          "aws-region": "${{ vars.AWS_REGION }}",
        });
        expect(job.steps!.find((s) => s.name === "Log in to the backend")!.run).toMatch(/^pulumi login /);
      }
    }
  });

  it("comment the previews on the pull request and package the chart", () => {
    const [commentName, comment] = jobs(workflows[0]!).find(([, job]) =>
      (job.steps ?? []).some((s) => s.run?.includes("scripts/preview-comment")),
    )!;
    expect(comment.permissions, commentName).toEqual({ contents: "read", "pull-requests": "write" });
    expect(comment.steps!.some((s) => /gh api -X (POST|PATCH) .*comments/.test(s.run ?? ""))).toBe(true);
    for (const file of workflows)
      expect(
        steps(file).some((s) => /^helm package charts\/chatapi /m.test(s.run ?? "")),
        file,
      ).toBe(true);
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
