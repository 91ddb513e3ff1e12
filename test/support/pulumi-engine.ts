// The real Pulumi engine for *.engine.test.ts. "default": a user's own `pulumi` on PATH when it is
// new enough (PULUMI_MIN_VERSION in scripts/toolchain-versions), else the pinned CLI that
// scripts/pulumi-toolchain builds from Go modules; "newest": the newest CLI that builds here (both
// built by scripts/setup --for test). A missing CLI is an error naming the command that builds
// it, never a skip.
// EngineProject runs one stack of this repository's program in a throwaway project folder:
// Pulumi.yaml (main pointing at this checkout's stacks/), a copy of the shipped stack file, a
// local file backend and a random passphrase, so nothing in the checkout is written and runs
// in parallel do not meet (no `pulumi login`, no selected stack in the shared PULUMI_HOME).
import { randomBytes } from "node:crypto";
import {
  accessSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { execa } from "execa";
import { parse, stringify } from "yaml";
import { cacheDir, repoRoot } from "./paths";

export interface PulumiCli {
  /** The pulumi executable. */
  command: string;
  version: string;
  /** Environment the CLI runs with (PATH, PULUMI_HOME, ...). */
  env: Record<string, string>;
  /** path: a user's own CLI; toolchain: built by scripts/pulumi-toolchain. */
  source: "path" | "toolchain";
  /** Can it start the Node.js policy pack? Not the Go-built CLIs newer than v3.171 (no RunPlugin in the v3.68 host). */
  policyPacks: boolean;
}

export type CliChoice = "default" | "newest";

/** A variable of scripts/toolchain-versions. */
export function toolchainVersion(name: string): string {
  const text = readFileSync(join(repoRoot, "scripts", "toolchain-versions"), "utf8");
  const value = new RegExp(`^${name}=(\\S+)`, "m").exec(text)?.[1];
  if (!value) throw new Error(`scripts/toolchain-versions has no ${name}`);
  return value;
}

/** a >= b for versions like v3.171.0. */
export function versionAtLeast(a: string, b: string): boolean {
  const parts = (v: string) => v.replace(/^v/, "").split(/[.-]/).slice(0, 3).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) > (y[i] ?? 0);
  return true;
}

const toolchainScript = join(repoRoot, "scripts", "pulumi-toolchain");
const ownBinDir = join(cacheDir, "pulumi-");

function pulumiOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "pulumi");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

/** The CLI the engine tests use; throws with the command to run when there is none. */
export async function resolvePulumiCli(choice: CliChoice = "default"): Promise<PulumiCli> {
  const onPath = pulumiOnPath();
  if (choice === "default" && onPath && !onPath.startsWith(ownBinDir)) {
    const env = { ...baseEnv(), PULUMI_SKIP_UPDATE_CHECK: "true" };
    const version = (await execa(onPath, ["version"], { env })).stdout.trim();
    const minimum = toolchainVersion("PULUMI_MIN_VERSION");
    if (!versionAtLeast(version, minimum))
      throw new Error(
        `the pulumi on PATH (${onPath}, ${version}) is older than ${minimum}: upgrade it, or take it off PATH so the tests use the Go-built CLI`,
      );
    // An official CLI brings its own language host, which starts policy packs.
    return { command: onPath, version, env, source: "path", policyPacks: true };
  }
  const newest = choice === "newest";
  const check = await execa(toolchainScript, ["check", ...(newest ? ["--newest"] : [])], {
    reject: false,
    all: true,
  });
  if (check.exitCode !== 0)
    throw new Error(
      `The Go-built Pulumi ${newest ? "CLI (newest)" : "engine toolchain"} is missing or broken.\n` +
        `Build it with: scripts/pulumi-toolchain build${newest ? " --only cli-newest" : ""}   (scripts/setup --for test runs it)\n${check.all}`,
    );
  const { stdout } = await execa(toolchainScript, ["env", "--json", "--cli", newest ? "newest" : "pinned"]);
  const env = { ...baseEnv(), ...(JSON.parse(stdout) as Record<string, string>) };
  const command = join(env.PATH!.split(delimiter)[0]!, "pulumi");
  const version = (await execa(command, ["version"], { env })).stdout.trim();
  return { command, version, env, source: "toolchain", policyPacks: !versionAtLeast(version, "v3.172.0") };
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface EngineProjectOptions {
  cli: PulumiCli;
  /** The shipped stack file to use, Pulumi.<stack>.yaml in the repository root. */
  stack: string;
}

export class EngineProject {
  readonly dir: string;
  readonly projectDir: string;
  readonly stateDir: string;
  readonly renderDir: string;
  readonly passphrase = randomBytes(24).toString("hex");
  /** Seconds per command label, for the timing table the tests print. */
  readonly timings: { label: string; seconds: number }[] = [];
  private readonly env: Record<string, string>;

  constructor(private readonly options: EngineProjectOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `chatapi-engine-${options.stack}-`));
    this.projectDir = join(this.dir, "project");
    this.stateDir = join(this.dir, "state");
    this.renderDir = join(this.dir, "rendered");
    mkdirSync(this.projectDir);
    mkdirSync(this.stateDir);
    // The project as in the repository, its program found through an absolute main.
    const project = parse(readFileSync(join(repoRoot, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    project.main = `${join(repoRoot, String(project.main ?? "."))}/`;
    writeFileSync(join(this.projectDir, "Pulumi.yaml"), stringify(project));
    copyFileSync(join(repoRoot, `Pulumi.${options.stack}.yaml`), this.stackFile);
    this.env = {
      ...options.cli.env,
      PULUMI_BACKEND_URL: `file://${this.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: this.passphrase,
      // Types are checked by `npm run typecheck`; the engine only needs the program to run.
      PULUMI_NODEJS_TRANSPILE_ONLY: "true",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
  }

  get stack(): string {
    return this.options.stack;
  }

  get stackFile(): string {
    return join(this.projectDir, `Pulumi.${this.options.stack}.yaml`);
  }

  /** Runs a command (pulumi or a project script) in the project folder; never throws on exit codes. */
  async run(
    label: string,
    file: string,
    args: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<RunResult> {
    const started = performance.now();
    const result = await execa(file, args, {
      cwd: this.projectDir,
      env: { ...this.env, ...extraEnv },
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: 600_000,
    });
    const seconds = (performance.now() - started) / 1000;
    this.timings.push({ label, seconds });
    return {
      exitCode: result.exitCode ?? -1,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      seconds,
    };
  }

  /** `pulumi <args> --stack <stack>`; throws with the output when `expectExit` differs. */
  async pulumi(
    label: string,
    args: string[],
    options: { expectExit?: number | "any"; env?: Record<string, string> } = {},
  ): Promise<RunResult> {
    const result = await this.run(
      label,
      this.options.cli.command,
      [...args, "--stack", this.stack],
      options.env,
    );
    const expected = options.expectExit ?? 0;
    if (expected !== "any" && result.exitCode !== expected)
      throw new Error(
        `pulumi ${args.join(" ")} exited ${result.exitCode} (expected ${expected}):\n${result.stderr}\n${result.stdout.slice(-4000)}`,
      );
    return result;
  }

  /** scripts/engine-stack init (the same command users and CI run), render folder in the temp dir. */
  async init(): Promise<void> {
    const result = await this.run(
      "stack init + secrets (scripts/engine-stack)",
      join(repoRoot, "scripts", "engine-stack"),
      ["init", "--stack", this.stack, "--cwd", this.projectDir],
    );
    if (result.exitCode !== 0)
      throw new Error(`scripts/engine-stack init failed:\n${result.stderr}${result.stdout}`);
    await this.setConfig("chatapi:kubernetes.renderYamlToDirectory", this.renderDir);
  }

  async setConfig(key: string, value: string): Promise<void> {
    await this.pulumi(`config set ${key}`, ["config", "set", "--path", key, value]);
  }

  /** The stack's config as the engine hands it to the program, secrets decrypted. */
  async config(): Promise<{ config: Record<string, string>; secretKeys: string[] }> {
    const { stdout } = await this.pulumi("config --json", ["config", "--json", "--show-secrets"]);
    const entries = JSON.parse(stdout) as Record<string, { value?: string; secret: boolean }>;
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, entry] of Object.entries(entries)) {
      if (entry.value === undefined) continue;
      config[key] = entry.value;
      if (entry.secret) secretKeys.push(key);
    }
    return { config, secretKeys };
  }

  /** Deletes the stack's state and the temp folder (the render folder with it). */
  async dispose(): Promise<void> {
    try {
      await this.run("stack rm", this.options.cli.command, [
        "stack",
        "rm",
        "--yes",
        "--force",
        "--stack",
        this.stack,
      ]);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
