// Child processes of the benchmark: servers (their output to a log file, so a chatty server
// never blocks on a pipe nobody reads) and their CPU and memory readings from /proc.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, readFileSync, closeSync } from "node:fs";
import { sleep } from "./clock";

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  base: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Starts a server and waits until its log shows the port it listens on. */
export async function startServer(options: {
  command: string;
  args: string[];
  env: Record<string, string>;
  logFile: string;
  portPattern: RegExp;
  cwd?: string;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const fd = openSync(options.logFile, "a");
  const child = spawn(options.command, options.args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let port = 0;
  while (!port) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${options.args.join(" ")} exited (${child.exitCode ?? child.signalCode}):\n${tail(options.logFile)}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.args.join(" ")} did not start in time:\n${tail(options.logFile)}`);
    }
    const match = options.portPattern.exec(readFileSync(options.logFile, "utf8"));
    if (match) port = Number(match[1]);
    else await sleep(100);
  }
  return {
    child,
    pid: child.pid!,
    port,
    base: `http://127.0.0.1:${port}`,
    logFile: options.logFile,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Resident memory of a process in KiB. */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Machine-wide busy and total jiffies, to tell how loaded the box was during a step. */
export function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}
