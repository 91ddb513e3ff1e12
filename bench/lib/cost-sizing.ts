// The arithmetic of npm run bench:cost: CPU µs per delivery from a step's meter, the per-message
// and per-delivery costs fitted over the room shapes, and the cluster size they give for a load.
import type { MachineReading } from "./meter";

/** CPU time per delivery of one step, µs: the API instances, their PostgreSQL backends, both. */
export interface CpuPerDelivery {
  apiUs: number;
  dbUs: number;
  totalUs: number;
}

/** As report.ts's "CPU µs per delivery": CPU time over the step ÷ every delivery of the step. */
export function cpuPerDelivery(machine: MachineReading, deliveries: number): CpuPerDelivery {
  const us = (pct: number) => (deliveries === 0 ? NaN : ((pct / 100) * machine.seconds * 1e6) / deliveries);
  const apiUs = us(machine.serverCpuPct);
  const dbUs = us(machine.helperCpuPct);
  return { apiUs, dbUs, totalUs: apiUs + dbUs };
}

/**
 * CPU per delivery in a room of M members modelled as perDeliveryUs + perMessageUs / M: a message
 * costs its write (PostgreSQL) and its publish/parse once, then each member's frame costs the same.
 */
export interface CostLine {
  perMessageUs: number;
  perDeliveryUs: number;
}

/** Least squares of µs per delivery on 1/members, slope ≥ 0; undefined without two different room sizes. */
export function fitCostLine(points: Array<{ members: number; usPerDelivery: number }>): CostLine | undefined {
  const xs = points.map((p) => 1 / p.members);
  const ys = points.map((p) => p.usPerDelivery);
  const n = points.length;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  const sxx = xs.reduce((sum, x) => sum + (x - meanX) ** 2, 0);
  if (n < 2 || sxx === 0) return undefined;
  const sxy = xs.reduce((sum, x, i) => sum + (x - meanX) * (ys[i]! - meanY), 0);
  // A message cannot cost less than nothing: a negative slope is noise, the flat line fits then.
  const perMessageUs = Math.max(0, sxy / sxx);
  return { perMessageUs, perDeliveryUs: meanY - perMessageUs * meanX };
}

export const usPerDeliveryOf = (line: CostLine, members: number) =>
  line.perDeliveryUs + line.perMessageUs / members;

export interface SizingFigures {
  api: CostLine;
  db: CostLine;
  /** RSS an API instance grows by per connected, subscribed, idle socket. */
  kbPerSocket: number;
  /** An instance's RSS before any socket (a tenant created, pools warm). */
  baseMbPerInstance: number;
}

export interface Load {
  messagesPerSecond: number;
  /** Members per room (the average a message reaches). */
  members: number;
  sockets: number;
  instances: number;
  /** Share of a core the sizing plans to use, 0..1 (e.g. 0.6 leaves room for bursts). */
  utilisation: number;
}

export interface ClusterSize {
  deliveriesPerSecond: number;
  /** Cores for the API instances, all together. */
  apiCores: number;
  /** Cores for PostgreSQL's backends. */
  dbCores: number;
  /** RSS of the API instances, all together. */
  memoryMb: number;
}

/**
 * cores = msgs/s × (perMessageUs + members × perDeliveryUs) / 1e6 / utilisation, for the API and
 * PostgreSQL each; memory = instances × base + sockets × KB per socket.
 */
export function sizeCluster(figures: SizingFigures, load: Load): ClusterSize {
  if (!(load.utilisation > 0 && load.utilisation <= 1))
    throw new Error(`utilisation must be in (0, 1] (got ${load.utilisation})`);
  const cores = (line: CostLine) =>
    (load.messagesPerSecond * (line.perMessageUs + load.members * line.perDeliveryUs)) /
    1e6 /
    load.utilisation;
  return {
    deliveriesPerSecond: load.messagesPerSecond * load.members,
    apiCores: cores(figures.api),
    dbCores: cores(figures.db),
    memoryMb: load.instances * figures.baseMbPerInstance + (load.sockets * figures.kbPerSocket) / 1024,
  };
}
