// What the machine was doing during a step: load average, how busy all cores were, and how much
// CPU the system's own server processes used (the fairest figure on a shared box).
import { loadavg } from "node:os";
import { cpus } from "node:os";
import { cpuSeconds, machineJiffies } from "./proc-readings";

export interface MachineReading {
  /** 1/5/15-minute load average at the end of the step. */
  loadAverage: [number, number, number];
  /** Share of all cores' time that was busy during the step (any process), 0..100. */
  machineBusyPct: number;
  /** CPU used by the system's server processes, in % of one core (200 = both cores). */
  serverCpuPct: number;
  /** CPU used by processes working only for it (ChatAPI: its PostgreSQL backends), same unit. */
  helperCpuPct: number;
  seconds: number;
}

export function startMeter(pids: number[], helperPids: number[] = []): () => MachineReading {
  const started = performance.now();
  const jiffies = machineJiffies();
  const cpu = pids.map(cpuSeconds);
  const helperCpu = helperPids.map(safeCpu);
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const now = machineJiffies();
    const used = pids.reduce((sum, pid, i) => sum + (safeCpu(pid) - cpu[i]!), 0);
    const helpers = helperPids.reduce((sum, pid, i) => sum + Math.max(0, safeCpu(pid) - helperCpu[i]!), 0);
    const [one, five, fifteen] = loadavg().map((x) => Math.round(x * 100) / 100);
    return {
      loadAverage: [one!, five!, fifteen!],
      machineBusyPct:
        Math.round((1000 * (now.busy - jiffies.busy)) / Math.max(1, now.total - jiffies.total)) / 10,
      serverCpuPct: Math.round((1000 * used) / seconds) / 10,
      helperCpuPct: Math.round((1000 * helpers) / seconds) / 10,
      seconds: Math.round(seconds * 10) / 10,
    };
  };
}

function safeCpu(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}

export const coreCount = () => cpus().length;

/**
 * Waits until the whole machine has been mostly idle for one window (at most maxMs): what a step
 * leaves behind (a thousand sockets closing, autovacuum after many inserts, a checkpoint) must
 * not land in the next step's figures, whichever system runs next. Returns how long it waited
 * and how busy the last window was.
 */
export async function settle(
  options: { busyBelowPct?: number; windowMs?: number; maxMs?: number } = {},
): Promise<{ waitedMs: number; busyPct: number }> {
  const { busyBelowPct = 15, windowMs = 1000, maxMs = 20_000 } = options;
  const started = performance.now();
  let busyPct = 100;
  while (performance.now() - started < maxMs) {
    const before = machineJiffies();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = machineJiffies();
    busyPct = Math.round((1000 * (after.busy - before.busy)) / Math.max(1, after.total - before.total)) / 10;
    if (busyPct < busyBelowPct) break;
  }
  return { waitedMs: Math.round(performance.now() - started), busyPct };
}
