// The docker CLI, for the few steps no resource models: writing the release switch's file and
// reloading nginx. Used by the compose deploy (scripts/lib/) and, inside a Pulumi dynamic
// provider, by the Pulumi Docker target. Pulumi serializes a dynamic provider's functions with
// everything they reference, and cannot serialize Node's native code: so child_process is
// required when a command runs, not imported (the serialized code then requires it itself).
import type { spawn as Spawn } from "node:child_process";
import type * as Fs from "node:fs";
import type * as Os from "node:os";
import type * as Path from "node:path";

/**
 * Which engine: a DOCKER_HOST value (unix://, ssh://user@host, tcp://); the CLI's default
 * (DOCKER_HOST, the current context) when unset. `tls`: PEM material for a tcp:// engine.
 */
export interface DockerEngine {
  host?: string;
  tls?: { ca: string; cert: string; key: string };
}

/**
 * The environment that points the CLI at the engine. TLS material goes into a private
 * temporary folder as DOCKER_CERT_PATH (the CLI reads files only); `cleanup` removes it.
 */
export function engineEnvironment(engine: DockerEngine): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!engine.host) return { env, cleanup: () => undefined };
  env.DOCKER_HOST = engine.host;
  delete env.DOCKER_TLS_VERIFY;
  delete env.DOCKER_CERT_PATH;
  if (!engine.tls) return { env, cleanup: () => undefined };
  /* eslint-disable @typescript-eslint/no-require-imports -- see the top of the file */
  const fs = require("node:fs") as typeof Fs;
  const os = require("node:os") as typeof Os;
  const path = require("node:path") as typeof Path;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatapi-docker-tls-"));
  fs.writeFileSync(path.join(dir, "ca.pem"), engine.tls.ca, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "cert.pem"), engine.tls.cert, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "key.pem"), engine.tls.key, { mode: 0o600 });
  env.DOCKER_TLS_VERIFY = "1";
  env.DOCKER_CERT_PATH = dir;
  return { env, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class DockerCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly result: DockerResult,
  ) {
    const output = `${result.stderr}${result.stdout}`.trim().split("\n").slice(-15).join("\n");
    super(`docker ${args.join(" ")} exited with ${result.exitCode}${output ? `:\n${output}` : ""}`);
    this.name = "DockerCommandError";
  }
}

/** Runs `docker <args>` against the engine; rejects on a non-zero exit unless `check` is false. */
export function dockerCli(
  engine: DockerEngine,
  args: string[],
  options: { input?: string; check?: boolean; timeoutMs?: number } = {},
): Promise<DockerResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the top of the file
  const { spawn } = require("node:child_process") as { spawn: typeof Spawn };
  const { env, cleanup } = engineEnvironment(engine);
  return new Promise<DockerResult>((resolve, reject) => {
    const child = spawn("docker", args, {
      env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => reject(new Error(`cannot run docker: ${error.message}`)));
    child.on("close", (code, signal) => {
      const result = { exitCode: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.exitCode !== 0 && options.check !== false) reject(new DockerCommandError(args, result));
      else resolve(result);
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.input);
    }
  }).finally(cleanup);
}

/** Is the container there and running? */
export async function isRunning(engine: DockerEngine, container: string): Promise<boolean> {
  const result = await dockerCli(engine, ["inspect", "--format", "{{.State.Running}}", container], {
    check: false,
  });
  return result.exitCode === 0 && result.stdout.trim() === "true";
}
