// Child processes for tests, bench and chaos, started with execa: the chat service's build
// (`node app/dist/cli.js serve|worker|backup|...`), monitoring daemons and other servers, on free
// loopback ports, with bounded waits. Whoever starts one stops it (execa also kills it when this
// process exits).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execaModule, run } from "./exec";

export const ROOT = join(__dirname, "..");
export const APP_DIR = join(ROOT, "app");
export const CLI = join(APP_DIR, "dist", "cli.js");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/** Whether something accepts TCP connections on host:port. */
export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Polls until `check` is true (bounded); throws naming what never happened and the last error. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `${what} did not happen within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ""}`,
  );
}

/** Child processes run the build (of `appDir`): refuse a missing one or one older than the sources. */
export function assertBuildCurrent(appDir = APP_DIR): void {
  const cli = join(appDir, "dist", "cli.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`);
  const built = statSync(cli).mtimeMs;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  const stale = walk(join(appDir, "src")).find((f) => statSync(f).mtimeMs > built);
  if (stale) throw new Error(`${appDir}/dist is older than ${stale}: run npm run build`);
}

export interface Child {
  pid: number;
  /** Output lines (stdout and stderr) as they arrived; empty when they go to a log file. */
  output: string[];
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  alive(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** Sends the signal (SIGTERM by default; SIGKILL follows after `killAfterMs`) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ChildOptions {
  /** The whole environment (nothing of this process's is passed on). */
  env?: Record<string, string>;
  cwd?: string;
  /** Output appended to this file instead of kept (a chatty server never blocks on a pipe). */
  logFile?: string;
  killAfterMs?: number;
}

/** Starts a long-running child process; its output is kept line by line (or goes to `logFile`). */
export async function startChild(file: string, args: string[], options: ChildOptions = {}): Promise<Child> {
  const { execa } = await execaModule();
  const output: string[] = [];
  // An execa line transform that keeps each line and passes nothing on (nothing is buffered).
  // eslint-disable-next-line require-yield
  const keep = function* (line: unknown) {
    output.push(String(line));
  };
  const sink = options.logFile ? { file: options.logFile, append: true } : keep;
  const subprocess = execa(file, args, {
    env: options.env ?? {},
    extendEnv: false,
    cwd: options.cwd,
    stdin: "ignore",
    stdout: sink,
    stderr: sink,
    buffer: false,
    reject: false,
    forceKillAfterDelay: options.killAfterMs ?? 30_000,
  });
  const exited = subprocess.then((result) => result.exitCode ?? null);
  const alive = () => subprocess.exitCode === null && subprocess.signalCode === null;
  if (subprocess.pid === undefined) {
    throw new Error(`cannot run ${file}: ${(await subprocess).message} (not installed?)`);
  }
  return {
    pid: subprocess.pid,
    output,
    exited,
    alive,
    signal: (signal) => subprocess.kill(signal),
    stop: async (signal = "SIGTERM") => {
      if (alive()) subprocess.kill(signal);
      return exited;
    },
  };
}

export interface AppProcess extends Child {
  url: string;
  port: number;
}

/**
 * `chatapi <args>` (serve by default) from the build, with only PATH and `env`; resolves once its
 * log says the port it listens on (or, for commands that serve no API, a line matching `ready`).
 */
export async function startAppProcess(
  env: Record<string, string>,
  args: string[] = ["serve"],
  options: { ready?: RegExp; timeoutMs?: number } = {},
): Promise<AppProcess> {
  assertBuildCurrent();
  // INFO at least: the "listening" line tells the port.
  const level = env.LOG_LEVEL === "DEBUG" ? "DEBUG" : "INFO";
  const child = await startChild(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env, LOG_LEVEL: level },
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let port: number | undefined;
  const started = () => {
    for (const line of child.output) {
      const match = /"port":(\d+).*listening on/.exec(line);
      if (match) port = Number(match[1]);
      else if (options.ready?.test(line)) port = 0;
      if (port !== undefined) return true;
    }
    if (!child.alive()) throw new Error("exited");
    return false;
  };
  await waitFor(`chatapi ${args[0]} starting`, started, timeoutMs, 50).catch(async () => {
    const code = child.alive() ? undefined : await child.exited;
    if (code === undefined) await child.stop("SIGKILL");
    const what = code === undefined ? `did not start within ${timeoutMs / 1000} s` : `exited with ${code}`;
    throw new Error(`chatapi ${args[0]} ${what}:\n${child.output.join("\n")}`);
  });
  return { ...child, url: `http://127.0.0.1:${port}`, port: port! };
}

export interface Instance extends AppProcess {
  name: string;
}

/**
 * `chatapi serve` (or `worker`) named `name` on a free port given to it (PORT or METRICS_PORT),
 * with PATH, HOME and `env`; resolves once it answers /health.
 */
export async function startInstance(
  name: string,
  env: Record<string, string>,
  command: "serve" | "worker" = "serve",
): Promise<Instance> {
  assertBuildCurrent();
  const port = await freePort();
  const portVar = command === "serve" ? "PORT" : "METRICS_PORT";
  const child = await startChild(process.execPath, [CLI, command], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ...env,
      INSTANCE_NAME: name,
      [portVar]: String(port),
    },
  });
  const instance: Instance = { ...child, name, port, url: `http://127.0.0.1:${port}` };
  await waitFor(`${name} answering /health on ${port}`, async () => {
    if (!child.alive()) throw new Error(`${name} exited: ${child.output.join("\n").slice(-2000)}`);
    const res = await fetch(`${instance.url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  }).catch(async (error: unknown) => {
    await child.stop("SIGKILL");
    throw error;
  });
  return instance;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a `chatapi` command to completion (bounded), with PATH, HOME and `env`. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<CliResult> {
  assertBuildCurrent();
  const result = await run(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    extendEnv: false,
    reject: false,
    all: false,
    stripFinalNewline: false,
    timeout: timeoutMs,
  });
  return {
    code: result.exitCode === 128 ? null : result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

export interface Daemon {
  url: string;
  port: number;
  output: string[];
  stop(): Promise<void>;
}

export interface DaemonOptions {
  binary: string;
  /** The Debian package that ships the binary. */
  debianPackage: string;
  args: (port: number) => string[];
  env?: Record<string, string>;
  /** Answers 200 once the daemon is up. */
  readyPath?: string;
}

/**
 * A monitoring daemon from Debian's packages (Prometheus, the Pushgateway, exporters) on a free
 * loopback port. A missing binary fails loudly, naming the package scripts/setup installs.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  if (!existsSync(options.binary)) {
    throw new Error(
      `${options.binary} is missing: bash scripts/setup installs Debian's ${options.debianPackage} package`,
    );
  }
  const port = await freePort();
  const child = await startChild(options.binary, options.args(port), {
    env: { PATH: process.env.PATH ?? "", ...options.env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${options.binary} answering`, async () => {
    if (!child.alive()) throw new Error(`exited with ${await child.exited}`);
    const res = await fetch(url + (options.readyPath ?? "/metrics")).catch(() => undefined);
    return res?.ok ?? false;
  }).catch(async (error: unknown) => {
    await child.stop("SIGKILL");
    throw new Error(`${options.binary}: ${(error as Error).message}:\n${child.output.join("\n")}`);
  });
  return { url, port, output: child.output, stop: async () => void (await child.stop()) };
}

/** A Pushgateway of its own (Debian's build persists to /var/lib/prometheus unless told otherwise). */
export async function startPushgateway(): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-pushgateway-"));
  const daemon = await startDaemon({
    binary: "/usr/bin/prometheus-pushgateway",
    debianPackage: "prometheus-pushgateway",
    args: (port) => [
      `--web.listen-address=127.0.0.1:${port}`,
      `--persistence.file=${join(dir, "pushed.data")}`,
    ],
  });
  return {
    ...daemon,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess extends Child {
  port: number;
  base: string;
  logFile: string;
}

/** A server whose output goes to a log file; resolves once the log shows the port it listens on. */
export async function startServer(options: {
  command: string;
  args: string[];
  env: Record<string, string>;
  logFile: string;
  portPattern: RegExp;
  cwd?: string;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const child = await startChild(options.command, options.args, {
    env: options.env,
    logFile: options.logFile,
    killAfterMs: 10_000,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let port = 0;
  const what = options.args.join(" ");
  await waitFor(
    `${what} starting`,
    () => {
      if (!child.alive()) throw new Error("exited");
      const match = options.portPattern.exec(readFileSync(options.logFile, "utf8"));
      if (match) port = Number(match[1]);
      return port > 0;
    },
    options.timeoutMs ?? 60_000,
  ).catch(async () => {
    const code = child.alive() ? undefined : await child.exited;
    if (code === undefined) await child.stop("SIGKILL");
    const reason = code === undefined ? "did not start in time" : `exited (${code})`;
    throw new Error(`${what} ${reason}:\n${tail(options.logFile)}`);
  });
  return { ...child, port, base: `http://127.0.0.1:${port}`, logFile: options.logFile };
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
