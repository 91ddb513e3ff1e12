// CPU and memory readings of the benchmark's processes and of the machine, from /proc.
import { readFileSync } from "node:fs";

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

/** This process's soft limit on open files (children inherit it): "Max open files" in /proc. */
export function openFileLimit(limits = readFileSync("/proc/self/limits", "utf8")): number {
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  if (soft === undefined) throw new Error("no 'Max open files' line in /proc/self/limits");
  return soft === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(soft);
}

/** Descriptors a process keeps for everything but sockets under test (pools, logs, libraries). */
export const RESERVED_FILES = 1000;

/** How many processes hold `sockets` sockets when each may open `limit` files. */
export function processesFor(sockets: number, limit = openFileLimit()): number {
  return Math.ceil(sockets / Math.max(1, limit - RESERVED_FILES));
}
