// Running commands from the TypeScript scripts. (execa 9 is ESM-only, and these scripts are
// CommonJS like the Pulumi program, which tsx cannot make require it on Node 20.)
import { spawn } from "node:child_process";

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Text written to the command's stdin. */
  input?: string;
  /** Called with each output line (stdout and stderr) as it arrives. */
  onLine?: (line: string) => void;
  /** Fail (throw) on a non-zero exit: default true. */
  check?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  all: string;
}

export class CommandError extends Error {
  constructor(readonly result: RunResult) {
    const tail = result.all.trim().split("\n").slice(-25).join("\n");
    super(`${result.command} exited with ${result.exitCode}${tail ? `:\n${tail}` : ""}`);
    this.name = "CommandError";
  }
}

export function run(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
    let stdout = "";
    let stderr = "";
    let all = "";
    let partial = "";
    const collect = (which: "out" | "err") => (chunk: Buffer) => {
      const text = chunk.toString();
      if (which === "out") stdout += text;
      else stderr += text;
      all += text;
      if (options.onLine) {
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) options.onLine(line);
      }
    };
    child.stdout?.on("data", collect("out"));
    child.stderr?.on("data", collect("err"));
    child.on("error", (error) =>
      reject(
        new Error(
          `cannot run ${file}: ${error.message}${"code" in error && error.code === "ENOENT" ? " (not installed?)" : ""}`,
        ),
      ),
    );
    child.on("close", (code, signal) => {
      if (partial && options.onLine) options.onLine(partial);
      const result = { command, exitCode: code ?? (signal ? 128 : 1), stdout, stderr, all };
      if (result.exitCode !== 0 && options.check !== false) reject(new CommandError(result));
      else resolve(result);
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined); // the command may exit before reading it all
      child.stdin.end(options.input);
    }
  });
}

/** docker <args>, trimmed stdout. */
export async function docker(...args: string[]): Promise<string> {
  return (await run("docker", args)).stdout.trim();
}
