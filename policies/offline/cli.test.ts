// The offline runner's command line: `npm run policy -- --stack <name>` (the CI step) and
// `--manifests <dir|file>` (plain YAML, e.g. helm template output), its report and exit codes.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { readStackFile } from "../../components/config/stack-file";
import { repoRoot } from "../../test/support/paths";
import { kubernetesStack } from "../test/kubernetes-fixtures";
import { main } from "./cli";
import { stackNames } from "./stack-graph";

let dir: string;
let output: string[];

async function run(...args: string[]) {
  output = [];
  const log = vi.spyOn(console, "log").mockImplementation((text: string) => void output.push(text));
  const error = vi.spyOn(console, "error").mockImplementation((text: string) => void output.push(text));
  try {
    return { code: await main(args), text: output.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "chatapi-policy-cli-"));
  const manifests = kubernetesStack();
  // Two files and a List, as `helm template` and kubectl write them.
  writeFileSync(
    join(dir, "workloads.yaml"),
    manifests
      .slice(0, 12)
      .map((m) => stringify(m))
      .join("---\n"),
  );
  writeFileSync(
    join(dir, "rest.yml"),
    stringify({ apiVersion: "v1", kind: "List", items: manifests.slice(12) }),
  );
  writeFileSync(join(dir, "notes.txt"), "not a manifest");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe("npm run policy", () => {
  it("--stack for every shipped stack: runs every rule on the mocked graphs, exits 0 (the CI step, real npm script)", async () => {
    const stacks = stackNames(repoRoot).filter(
      (stack) =>
        readStackFile(repoRoot, stack).config["chatapi:target"] !== "kubernetes" ||
        existsSync(join(repoRoot, "components", "kubernetes")),
    );
    expect(stacks).toEqual(expect.arrayContaining(["local", "dockerhost"]));
    const args = stacks.flatMap((stack) => ["--stack", stack]);
    const result = await execa("npm", ["run", "-s", "policy", "--", ...args], {
      cwd: repoRoot,
      reject: false,
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    for (const stack of stacks)
      expect(result.stdout).toMatch(
        new RegExp(`^stack ${stack} \\((docker|kubernetes)\\): \\d+ resources, 32 rules`, "m"),
      );
    // The app's containers carry their release id (docs/DEPLOYS.md).
    expect(result.stdout).toMatch(
      /^chatapi-local-api-[0-9a-f]{8}-1 {2}\[docker:index\/container:Container\]$/m,
    );
    expect(result.stdout).toContain(
      "  [advisory] docker-pids-limit (low): the container has no process limit",
    );
    expect(result.stdout).toMatch(/Remediation:\n {2}docker-pids-limit: /);
    expect(result.stdout).toContain(
      "note: offline stand-ins for secrets not readable here: chatapi:tlsCertificate, chatapi:tlsPrivateKey",
    );
    expect(result.stdout.match(/^PASSED: 0 mandatory violations, \d+ advisory$/gm)).toHaveLength(
      stacks.length,
    );
  }, 180_000);

  it("--manifests: reads every YAML file and List in a folder; a clean deployment passes", async () => {
    const { code, text } = await run("--manifests", dir);
    expect(text).toContain(`manifests ${dir}: ${kubernetesStack().length} resources, 32 rules`);
    expect(text).toContain("[advisory] allowed-registries");
    expect(code).toBe(0);
  });

  it("exits 1 on a mandatory violation, grouped under its resource with the remediation", async () => {
    const bad = kubernetesStack().find((m) => m.kind === "Deployment")!;
    const pod = (bad.spec as { template: { spec: { containers: { securityContext: object }[] } } }).template
      .spec;
    pod.containers[0]!.securityContext = { privileged: true };
    const file = join(dir, "..", `bad-${process.pid}.yaml`);
    writeFileSync(file, stringify(bad));
    try {
      const { code, text } = await run("--manifests", file);
      expect(code).toBe(1);
      expect(text).toContain(
        'chatapi/chatapi-prod-api  [kubernetes:apps/v1:Deployment]\n  [mandatory] no-privileged-containers (critical): container "api" runs privileged (securityContext.privileged: true)',
      );
      expect(text).toContain("  no-privileged-containers: Remove `privileged: true`");
      expect(text).toMatch(/FAILED: \d+ mandatory violations/);
    } finally {
      rmSync(file);
    }
  });

  it("--json with policy config: levels and settings as pulumi preview --policy-pack-config takes them", async () => {
    const config = join(dir, "..", `policy-config-${process.pid}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        "allowed-registries": { allowedRegistries: ["docker.io", "registry.example.com"] },
        "docker-pids-limit": "disabled",
      }),
    );
    try {
      const { code, text } = await run("--manifests", dir, "--config", config, "--json");
      expect(code).toBe(0);
      const [report] = JSON.parse(text) as {
        passed: boolean;
        rules: string[];
        violations: { rule: string }[];
      }[];
      expect(report!.passed).toBe(true);
      expect(report!.rules).not.toContain("docker-pids-limit");
      expect(report!.violations.map((v) => v.rule)).not.toContain("allowed-registries");
    } finally {
      rmSync(config);
    }
  });

  it("exits 2 naming what was wrong: unknown stack, bad policy config, not a manifest, no input", async () => {
    expect(await run("--stack", "nope")).toMatchObject({
      code: 2,
      text: expect.stringContaining("no stack file Pulumi.nope.yaml"),
    });
    const config = join(dir, "..", `bad-config-${process.pid}.json`);
    writeFileSync(
      config,
      JSON.stringify({ "pdb-sane": { minReplicasForPdb: "two" }, "no-such-rule": "advisory" }),
    );
    try {
      const { code, text } = await run("--manifests", dir, "--config", config);
      expect(code).toBe(2);
      expect(text).toContain("pdb-sane.minReplicasForPdb: must be integer");
      expect(text).toContain("no-such-rule: no such rule");
    } finally {
      rmSync(config);
    }
    const notes = join(dir, "notes.txt");
    expect(await run("--manifests", notes)).toMatchObject({
      code: 2,
      text: expect.stringContaining("not a Kubernetes object"),
    });
    expect(await run()).toMatchObject({ code: 2, text: expect.stringContaining("nothing to check") });
  });
});
