// The engine stack (Pulumi.ci.yaml: the Kubernetes target in render mode) under the real Pulumi
// engine, in a throwaway project folder with a file backend and a random passphrase, the way
// test/support/pulumi-engine.ts runs it — but with scripts/lib/run (CommonJS-safe), so the attack
// also loads under tsx (`npm run chaos`), where execa (ESM-only) cannot be required.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parse, stringify } from "yaml";
import { run } from "../../../toolbox/exec";
import { repoRoot } from "./instance";

export interface EngineStackState {
  /** `pulumi stack export` after `up`. */
  state: string;
  /** `pulumi stack output --json`. */
  outputs: string;
  /** Pulumi.ci.yaml as the engine left it (secrets encrypted). */
  stackFile: string;
  /** Every config secret, decrypted (what must not show up in the three above). */
  secrets: Record<string, string>;
}

async function pulumiEnv(): Promise<{ command: string; env: NodeJS.ProcessEnv }> {
  const toolchain = join(repoRoot, "scripts", "pulumi-toolchain");
  const check = await run(toolchain, ["check"], { reject: false });
  if (check.exitCode !== 0) {
    throw new Error(
      `the Pulumi toolchain is missing: run scripts/pulumi-toolchain build (scripts/setup --for test runs it)\n${check.all.slice(-1000)}`,
    );
  }
  const env = JSON.parse((await run(toolchain, ["env", "--json"])).stdout) as Record<string, string>;
  return { command: join(env.PATH!.split(delimiter)[0]!, "pulumi"), env };
}

export async function engineStackState(): Promise<EngineStackState> {
  const { command, env: toolEnv } = await pulumiEnv();
  const dir = mkdtempSync(join(tmpdir(), "chaos-engine-"));
  const project = join(dir, "project");
  const state = join(dir, "state");
  mkdirSync(project);
  mkdirSync(state);
  const manifest = parse(readFileSync(join(repoRoot, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
  manifest.main = `${join(repoRoot, String(manifest.main ?? "."))}/`;
  writeFileSync(join(project, "Pulumi.yaml"), stringify(manifest));
  const stackFile = join(project, "Pulumi.ci.yaml");
  copyFileSync(join(repoRoot, "Pulumi.ci.yaml"), stackFile);
  const env: NodeJS.ProcessEnv = {
    ...toolEnv,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("hex"),
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const pulumi = (...args: string[]) =>
    run(command, [...args, "--stack", "ci", "--non-interactive"], { env, cwd: project, timeout: 600_000 });
  try {
    await run(join(repoRoot, "scripts", "engine-stack"), ["init", "--stack", "ci", "--cwd", project], {
      env,
      cwd: project,
      timeout: 600_000,
    });
    await pulumi(
      "config",
      "set",
      "--path",
      "chatapi:kubernetes.renderYamlToDirectory",
      join(dir, "rendered"),
    );
    const entries = JSON.parse((await pulumi("config", "--json", "--show-secrets")).stdout) as Record<
      string,
      { value?: string; secret: boolean }
    >;
    const secrets = Object.fromEntries(
      Object.entries(entries)
        .filter(([, e]) => e.secret && e.value !== undefined)
        .map(([k, e]) => [k, e.value!]),
    );
    await pulumi("up", "--yes", "--skip-preview");
    return {
      state: (await pulumi("stack", "export")).stdout,
      outputs: (await pulumi("stack", "output", "--json")).stdout,
      stackFile: readFileSync(stackFile, "utf8"),
      secrets,
    };
  } finally {
    await pulumi("stack", "rm", "--yes", "--force").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
