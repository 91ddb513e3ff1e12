// App instances as real child processes (`node app/dist/cli.js serve`), on random ports.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = join(APP_DIR, "dist", "cli.js");

/** Child processes run the build: refuse a build older than the sources. */
export function assertBuildCurrent(): void {
  let built: number;
  try {
    built = statSync(CLI).mtimeMs;
  } catch {
    throw new Error(`${CLI} is missing: run npm run build`);
  }
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  const stale = walk(join(APP_DIR, "src")).filter((f) => statSync(f).mtimeMs > built);
  if (stale.length > 0) throw new Error(`app/dist is older than ${stale[0]}: run npm run build`);
}

export interface AppProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startAppProcess(
  env: Record<string, string>,
  args: string[] = ["serve"],
  options: { ready?: RegExp } = {},
): Promise<AppProcess> {
  assertBuildCurrent();
  // INFO at least: the "listening" line tells the port.
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env, LOG_LEVEL: env.LOG_LEVEL === "DEBUG" ? "DEBUG" : "INFO" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let startTimer: NodeJS.Timeout | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        const match = /"port":(\d+).*listening on/.exec(line);
        if (match) resolve(Number(match[1]));
        else if (options.ready?.test(line)) resolve(0);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    void exited.then((code) =>
      reject(new Error(`chatapi ${args[0]} exited with ${code}:\n${output.join("\n")}`)),
    );
    startTimer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`chatapi ${args[0]} did not start within 30 s:\n${output.join("\n")}`));
    }, 30_000).unref();
  });
  clearTimeout(startTimer);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
