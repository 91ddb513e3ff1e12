// The cluster's daemons: each runs detached (its own session) with its log in <state>/logs and a
// pid file "<pid> <exe> <start time>" in <state>/run. A component is running while that pid is
// still the same process (same executable, same start time: no confusion after pid reuse).
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { COMPONENTS } from "./components";
import type { ClusterConfig } from "./config";
import { die, say, seconds, sleep } from "./log";

const pidFile = (config: ClusterConfig, name: string) => join(config.paths.run, `${name}.pid`);
export const logFile = (config: ClusterConfig, name: string) => join(config.paths.logs, `${name}.log`);

/** Field 22 of /proc/<pid>/stat (start time), read after the command name, which may hold spaces. */
export function statFields(stat: string): { state: string; startTime: string } {
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  return { state: fields[0] ?? "", startTime: fields[19] ?? "" };
}

const readStat = (pid: number) => {
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
};

const exeOf = (pid: number) => {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
};

/** The pid of a running component, or undefined. */
export function componentPid(config: ClusterConfig, name: string): number | undefined {
  let recorded: string;
  try {
    recorded = readFileSync(pidFile(config, name), "utf8");
  } catch {
    return undefined;
  }
  const [pid, exe, start] = recorded.trim().split(" ");
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  if (exeOf(n) !== exe || readStat(n)?.startTime !== start) return undefined;
  return n;
}

/** The executable a component's pid file names (to tell an old lb-controller from the current one). */
export function componentExe(config: ClusterConfig, name: string): string | undefined {
  try {
    return readFileSync(pidFile(config, name), "utf8").trim().split(" ")[1];
  } catch {
    return undefined;
  }
}

export const running = (config: ClusterConfig, name: string) => componentPid(config, name) !== undefined;

export const anyRunning = (config: ClusterConfig) => COMPONENTS.some((c) => running(config, c));

/** Starts a daemon detached; dies with the end of its log if it exits right away. */
export async function startComponent(
  config: ClusterConfig,
  name: string,
  binary: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<void> {
  mkdirSync(config.paths.run, { recursive: true });
  mkdirSync(config.paths.logs, { recursive: true });
  const log = logFile(config, name);
  if (existsSync(log)) renameSync(log, `${log}.1`);
  const fd = openSync(log, "w");
  const child = spawn(binary, args, { detached: true, stdio: ["ignore", fd, fd], cwd: options.cwd });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) die(`${name} could not be started (${binary})`);
  writeFileSync(pidFile(config, name), `${pid} ${realpathSync(binary)} ${readStat(pid)?.startTime ?? ""}\n`);
  for (let i = 0; i < 50; i++) {
    if (!existsSync(`/proc/${pid}`)) break;
    if (running(config, name)) {
      await sleep(200);
      if (running(config, name)) return;
    }
    await sleep(100);
  }
  const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
  process.stderr.write(`${tail}\n`);
  die(`${name} exited right after start (log: ${log})`);
}

/** No such process, or a zombie waiting for init to reap it (our daemons are re-parented). */
const gone = (pid: number) => {
  const stat = readStat(pid);
  return !stat || stat.state === "Z";
};

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (gone(pid)) return true;
    await sleep(50);
  }
  return gone(pid);
}

/** SIGTERM, then SIGKILL after 15 s. */
export async function stopPid(pid: number, label: string): Promise<void> {
  if (!signal(pid, "SIGTERM")) return;
  if (await waitGone(pid, 15_000)) return;
  say(`   ${label} (pid ${pid}) ignored SIGTERM for 15s: SIGKILL`);
  signal(pid, "SIGKILL");
  await waitGone(pid, 5_000);
}

/** Stops a component if it runs; its whole session for the lb-controller (its kubectl children too). */
export async function stopComponent(config: ClusterConfig, name: string): Promise<void> {
  const pid = componentPid(config, name);
  if (pid !== undefined) {
    if (name === "lb-controller") signal(-pid, "SIGTERM");
    const started = performance.now();
    await stopPid(pid, name);
    say(`   stopped ${name} (pid ${pid}, ${seconds(started)})`);
  }
  rmSync(pidFile(config, name), { force: true });
}

/** Every process: pid, executable and command line (for finding our containerd shims). */
export function processes(): { pid: number; exe: string | undefined; cmdline: string[] }[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map((e) => {
      const pid = Number(e);
      let cmdline: string[] = [];
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      } catch {
        // gone meanwhile
      }
      return { pid, exe: exeOf(pid), cmdline };
    });
}
