// The "How cost grows" section of bench/RESULTS.md (npm run bench:cost): one row per room shape
// and instance count, the per-message and per-delivery costs fitted from them, the memory per
// socket, and what they give for an example load.
import type { IdleResult } from "../scenarios/idle";
import type { FanoutResult } from "../scenarios/fanout";
import { type CostOptions, differencesFromDefaults } from "./cost-options";
import {
  cpuPerDelivery,
  fitCostLine,
  sizeCluster,
  usPerDeliveryOf,
  type CostLine,
  type Load,
} from "./cost-sizing";

export interface CostCell {
  rooms: number;
  members: number;
  instances: number;
  /** msgs/s offered: the delivery target ÷ members. */
  offeredRate: number;
  idle: IdleResult;
  fanout: FanoutResult;
}

export interface CostRun {
  date: string;
  commit: string;
  machine: { cores: number; cpuModel: string; memoryGb: number; node: string };
  loadAverageStart: number[];
  loadAverageEnd: number[];
  /** Wall time of the whole run, seconds. */
  wallS: number;
  options: CostOptions;
  cells: CostCell[];
}

/** The example the section (and README's sizing rule) works out: npm run bench's target rate. */
export const EXAMPLE_LOAD: Omit<Load, "instances"> = {
  messagesPerSecond: 600,
  members: 50,
  sockets: 10_000,
  utilisation: 0.6,
};

/**
 * Below this many sockets per instance an RSS reading does not resolve a socket's few KB: garbage
 * collection of the tenant's set-up moves it by megabytes (a 1,000-socket cell on 4 instances read
 * -12.4 KB per socket).
 */
export const MIN_SOCKETS_PER_INSTANCE_FOR_RSS = 2500;

const resolvesRss = (c: CostCell) => c.idle.connections / c.instances >= MIN_SOCKETS_PER_INSTANCE_FOR_RSS;

/** n to `digits` decimals ("–" when not a number); a rounded -0 prints as 0. */
const fixed = (n: number, digits = 1) =>
  Number.isFinite(n) ? (Math.abs(n) < 0.5 * 10 ** -digits ? 0 : n).toFixed(digits) : "–";
const thousands = (n: number) => Math.round(n).toLocaleString("en-US");
const signed = (n: number) => (Number(fixed(n)) > 0 ? "+" : "") + fixed(n);
const rate = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Cells whose deliveries were not exactly right (lost, duplicated, reordered, refused, not stored). */
export function faultyCells(cells: CostCell[]): string[] {
  return cells.flatMap((c) => {
    const f = c.fanout;
    const faults = [
      f.lost && `${f.lost} lost`,
      f.duplicates && `${f.duplicates} duplicated`,
      f.outOfOrder && `${f.outOfOrder} out of order`,
      f.errors && `${f.errors} refused (${f.firstError ?? "no error text"})`,
      f.persisted !== undefined &&
        f.persisted !== f.sent - f.errors &&
        `${f.persisted}/${f.sent - f.errors} persisted`,
    ].filter(Boolean);
    return faults.length ? [`${c.rooms}×${c.members} on ${c.instances}: ${faults.join(", ")}`] : [];
  });
}

/** msgs/s each room gets in a cell. */
export const perRoomRate = (c: CostCell) => Math.round((c.offeredRate / c.rooms) * 1000) / 1000;

/**
 * The cells a count's line is fitted on: the shapes whose rooms get the same msgs/s (the lowest
 * such rate with two room sizes), so the fit sees only what members change. A busy room's
 * messages leave in fewer writes per member, which a line on 1/M cannot hold: fitted over every
 * shape, the 20 × 50 cell (20 msgs/s per room) against 200 × 50 (2) pulled the per-message cost
 * below zero. Without such a pair: every cell.
 */
export function fitCells(cells: CostCell[]): CostCell[] {
  const rates = [...new Set(cells.map(perRoomRate))].sort((a, b) => a - b);
  for (const rate of rates) {
    const same = cells.filter((c) => perRoomRate(c) === rate);
    if (new Set(same.map((c) => c.members)).size >= 2) return same;
  }
  return cells;
}

/** Per instance count: the API and PostgreSQL cost lines over that count's fitted shapes. */
export function fitByInstances(cells: CostCell[]): Map<number, { api: CostLine; db: CostLine } | undefined> {
  const fits = new Map<number, { api: CostLine; db: CostLine } | undefined>();
  for (const n of [...new Set(cells.map((c) => c.instances))]) {
    const mine = fitCells(cells.filter((c) => c.instances === n));
    const points = (pick: "apiUs" | "dbUs") =>
      mine.map((c) => ({
        members: c.members,
        usPerDelivery: cpuPerDelivery(c.fanout.machine, c.fanout.deliveries)[pick],
      }));
    const api = fitCostLine(points("apiUs"));
    const db = fitCostLine(points("dbUs"));
    fits.set(n, api && db ? { api, db } : undefined);
  }
  return fits;
}

export interface MemoryFigures {
  /** Σ growth ÷ Σ sockets over the cells whose RSS resolves a socket. */
  meanKbPerSocket: number;
  /** The highest of those cells' readings: what the sizing plans with. */
  kbPerSocket: number;
  meanBaseMbPerInstance: number;
  /** The highest RSS an instance had before any socket: what the sizing plans with. */
  baseMbPerInstance: number;
  /** Cells with too few sockets per instance to resolve (left out of the per-socket figures). */
  unresolved: number;
}

/** RSS per idle socket and an instance's RSS before any, as averages and as the figures to plan with. */
export function memoryFigures(cells: CostCell[]): MemoryFigures {
  const resolved = cells.filter(resolvesRss);
  const sockets = resolved.reduce((sum, c) => sum + c.idle.connections, 0);
  const grownKb = resolved.reduce((sum, c) => sum + c.idle.kbPerConnection * c.idle.connections, 0);
  const before = cells.flatMap((c) => c.idle.rssBeforeMb);
  return {
    meanKbPerSocket: sockets === 0 ? NaN : grownKb / sockets,
    kbPerSocket: resolved.length === 0 ? NaN : Math.max(...resolved.map((c) => c.idle.kbPerConnection)),
    meanBaseMbPerInstance: before.reduce((a, b) => a + b, 0) / before.length,
    baseMbPerInstance: Math.max(...before),
    unresolved: cells.length - resolved.length,
  };
}

/** Which shapes the lines were fitted on, in words. */
function fittedOn(cells: CostCell[]): string {
  const used = fitCells(cells.filter((c) => c.instances === cells[0]?.instances));
  const shapes = [...new Set(used.map((c) => `${c.rooms} × ${c.members}`))].join(" and ");
  return used.length === cells.filter((c) => c.instances === cells[0]?.instances).length
    ? `every shape (${shapes})`
    : `the shapes whose rooms get the same ${perRoomRate(used[0]!)} msgs/s each (${shapes})`;
}

function cellRow(c: CostCell): string {
  const f = c.fanout;
  const cpu = cpuPerDelivery(f.machine, f.deliveries);
  return `| ${c.rooms} × ${c.members} | ${c.instances} | ${c.idle.connections} | ${rate(c.offeredRate)} | ${f.achievedRate} | ${f.deliveriesPerSecond} | ${fixed(cpu.apiUs)} | ${fixed(cpu.dbUs)} | ${fixed(cpu.totalUs)} | ${f.machine.serverCpuPct} | ${f.machine.helperCpuPct} | ${c.idle.rssBeforeMb.join(" + ")} | ${resolvesRss(c) ? c.idle.kbPerConnection : `(${c.idle.kbPerConnection})`} | ${f.latency.p50Ms} | ${f.latency.p99Ms} | ${f.lost} | ${f.duplicates} | ${f.outOfOrder} | ${f.persisted ?? "–"}/${f.sent - f.errors} | ${f.machine.machineBusyPct} | ${f.machine.loadAverage[0]} |`;
}

export function renderCostSection(run: CostRun): string {
  const o = run.options;
  const m = run.machine;
  const out: string[] = ["## How cost grows (rooms × members × API instances)", ""];
  const smoke = differencesFromDefaults(o);
  if (smoke.length > 0)
    out.push(
      `**Smoke run, not the full measurement** (it differs in ${smoke.join(", ")}): these figures only show the command works end to end; \`npm run bench:cost -- --write\` with the defaults measures the table the README's sizing rule is made from.`,
      "",
    );
  out.push(
    `Measured by \`npm run bench:cost${o.write ? " -- --write" : ""}\` (bench/cost.ts) at \`${run.commit}\`, ${run.date}, in ${fixed(run.wallS / 60)} min; ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GiB, Node ${m.node}; load average (1/5/15 min) ${run.loadAverageStart.join(" / ")} at the start, ${run.loadAverageEnd.join(" / ")} at the end. The shared PostgreSQL, Redis and RabbitMQ of scripts/setup; these cores also run the load generator, so CPU time per delivery is the figure to compare, not latency.`,
    "",
    `Each cell: a fresh database and N fresh \`chatapi serve\` instances with a tenant of R rooms × M members. First one idle socket per member (authenticated and subscribed, spread over the instances), RSS read ${o.settleS} s before and ${o.settleS} s after they connected; then those sockets closed and npm run bench's fan-out step over N instances (member j of room r on instance (r·M + j) mod N, room r's sender, one more socket, on r mod N) at ${thousands(o.deliveriesPerSecond)} deliveries/s offered whatever the shape, so msgs/s = ${thousands(o.deliveriesPerSecond)} ÷ M; ${o.warmupS} s warm-up, ${o.durationS} s measured, ${o.bodySize}-character bodies. CPU µs per delivery = CPU time during the step ÷ its deliveries, for the API instances' processes and for the PostgreSQL backends of the cell's database.`,
    "",
    "| rooms × members | API instances | member sockets | offered msgs/s | sent/s | deliveries/s | API µs per delivery | PostgreSQL µs per delivery | total µs per delivery | API CPU % | PostgreSQL CPU % | RSS before any socket, MB per instance | KB per idle socket | p50 ms | p99 ms | lost | dup | out of order | persisted / accepted | machine busy % | load 1 min |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|---|--:|--:|",
    ...run.cells.map(cellRow),
    "",
  );
  const faults = faultyCells(run.cells);
  out.push(
    faults.length === 0
      ? "Lost, duplicated, out of order, refused: 0 in every cell; every accepted message was found in PostgreSQL."
      : `**Not every delivery was right:** ${faults.join("; ")}.`,
    "",
  );

  const fits = fitByInstances(run.cells);
  const memory = memoryFigures(run.cells);
  out.push(
    "### Cost per message and per delivery",
    "",
    `CPU per delivery in rooms of M members ≈ (µs per delivery) + (µs per message) ÷ M: a message is written and published once, then each member's frame costs the same. Fitted by least squares on 1/M, per instance count, over ${fittedOn(run.cells)}; the worst miss is the model's largest error on any of that count's cells (total µs per delivery): busier rooms cost less per delivery than the line says (a room's messages that arrive together leave in one write per member).`,
    "",
    "| API instances | API µs per message | API µs per delivery | PostgreSQL µs per message | PostgreSQL µs per delivery | worst miss |",
    "|--:|--:|--:|--:|--:|--:|",
  );
  for (const [n, fit] of fits) {
    if (!fit) {
      out.push(`| ${n} | – | – | – | – | needs two room sizes |`);
      continue;
    }
    const misses = run.cells
      .filter((c) => c.instances === n)
      .map((c) => {
        const measured = cpuPerDelivery(c.fanout.machine, c.fanout.deliveries).totalUs;
        const predicted = usPerDeliveryOf(fit.api, c.members) + usPerDeliveryOf(fit.db, c.members);
        return (100 * (predicted - measured)) / measured;
      });
    const worst = misses.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
    out.push(
      `| ${n} | ${fixed(fit.api.perMessageUs)} | ${fixed(fit.api.perDeliveryUs, 2)} | ${fixed(fit.db.perMessageUs)} | ${fixed(fit.db.perDeliveryUs, 2)} | ${signed(worst)} % |`,
    );
  }
  out.push(
    "",
    `Memory: ${fixed(memory.meanKbPerSocket)} KB of API RSS per idle socket (Σ growth ÷ Σ sockets), ${fixed(memory.kbPerSocket)} KB at most, over the cells with at least ${thousands(MIN_SOCKETS_PER_INSTANCE_FOR_RSS)} sockets per instance${memory.unresolved ? ` (${memory.unresolved} cell${memory.unresolved > 1 ? "s" : ""} with fewer left out, in parentheses above: garbage collection moves RSS by megabytes, more than their sockets take)` : ""}; an instance's RSS before any socket ${fixed(memory.meanBaseMbPerInstance)} MB on average, ${fixed(memory.baseMbPerInstance)} MB at most.`,
    "",
  );

  const e = EXAMPLE_LOAD;
  out.push(
    "### Sizing from these figures",
    "",
    `API cores ≈ msgs/s × (API µs per message + M × API µs per delivery) ÷ 10⁶ ÷ utilisation, PostgreSQL cores the same with its figures; a Node.js instance uses about one core, so the instances must be at least the API cores; API memory ≈ instances × ${fixed(memory.baseMbPerInstance)} MB + sockets × ${fixed(memory.kbPerSocket)} KB (the highest readings). For ${thousands(e.messagesPerSecond * e.members)} deliveries/s in rooms of ${e.members} (${thousands(e.messagesPerSecond)} msgs/s), ${thousands(e.sockets)} sockets, at ${e.utilisation * 100} % utilisation, with each instance count's fitted figures:`,
    "",
    "| API instances | API cores | API cores per instance | fits (≤ 1 core each) | PostgreSQL cores | API memory MB |",
    "|--:|--:|--:|---|--:|--:|",
  );
  for (const [n, fit] of fits) {
    if (!fit) continue;
    const size = sizeCluster({ ...fit, ...memory }, { ...e, instances: n });
    const perInstance = size.apiCores / n;
    out.push(
      `| ${n} | ${fixed(size.apiCores, 2)} | ${fixed(perInstance, 2)} | ${perInstance <= 1 ? "yes" : "no"} | ${fixed(size.dbCores, 2)} | ${fixed(size.memoryMb, 0)} |`,
    );
  }
  return out.join("\n");
}
