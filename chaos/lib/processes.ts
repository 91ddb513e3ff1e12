// Child processes of the real service (`node app/dist/cli.js serve|worker|backup|...`), free
// loopback ports, bounded polling. Everything a scenario starts is stopped by its own cleanup.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..");
export const CLI = join(ROOT, "app", "dist", "cli.js");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Child processes run the build: refuse a missing one or one older than the sources. */
export function assertBuildCurrent(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const built = statSync(CLI).mtimeMs;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  const stale = walk(join(ROOT, "app", "src")).find((f) => statSync(f).mtimeMs > built);
  if (stale) throw new Error(`app/dist is older than ${stale}: run npm run build`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Polls until `check` is true; throws naming what never happened. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ""}`);
}

export interface Instance {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
  alive(): boolean;
  /** Sends the signal and waits for the exit (SIGKILL after 30 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `chatapi serve` (or `worker`) as a child process on a free port; resolves once it listens. */
export async function startInstance(
  name: string,
  env: Record<string, string>,
  command: "serve" | "worker" = "serve",
): Promise<Instance> {
  assertBuildCurrent();
  const port = await freePort();
  const portVar = command === "serve" ? "PORT" : "METRICS_PORT";
  const child = spawn(process.execPath, [CLI, command], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ...env,
      INSTANCE_NAME: name,
      [portVar]: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => log.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => log.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const instance: Instance = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    log,
    exited,
    alive,
    stop: async (signal = "SIGTERM") => {
      if (!alive()) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  await waitFor(`${name} answering /health on ${port}`, async () => {
    if (!alive()) throw new Error(`${name} exited: ${log.join("").slice(-2000)}`);
    const res = await fetch(`${instance.url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  }).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  return instance;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a `chatapi` command to completion (bounded). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  assertBuildCurrent();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
