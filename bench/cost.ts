// npm run bench:cost: how ChatAPI's cost grows with rooms × members and API instances. For each
// cell a fresh ChatAPI (app/dist, as npm run bench starts it, with N instances), idle sockets for
// RSS per socket, then the fan-out step at one delivery rate for every shape, for CPU µs per
// delivery (API and PostgreSQL) and p99. Prints the section "How cost grows" of bench/RESULTS.md;
// with --write also puts it there (npm run bench keeps it). Options: bench/README.md.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { usageError } from "../scripts/lib/cli-args";
import { COST_USAGE, parseCostArgs, type CostOptions } from "./lib/cost-options";
import { renderCostSection, type CostCell } from "./lib/cost-report";
import { cpuPerDelivery } from "./lib/cost-sizing";
import { settle } from "./lib/meter";
import { replaceSection } from "./lib/results-section";
import { loadServices } from "./lib/services";
import { fanoutStep } from "./scenarios/fanout";
import { idleStep } from "./scenarios/idle";
import { startChatApi } from "./systems/chatapi";

const ROOT = join(__dirname, "..");
/** The tenant of 10k members is made over REST by one API key: past the default 6000/min. */
const COST_ENV = { RATE_LIMIT_PER_MINUTE: "10000000" };

const log = (...parts: unknown[]) =>
  console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0]!.toFixed(1)}]`, ...parts);

async function quiet(): Promise<void> {
  const { waitedMs, busyPct } = await settle();
  if (busyPct >= 15) log(`  machine still ${busyPct}% busy after ${waitedMs} ms; measuring anyway`);
}

async function measureCell(
  options: CostOptions,
  rooms: number,
  members: number,
  instances: number,
  logDir: string,
): Promise<CostCell> {
  const { databaseUrl: adminDatabaseUrl, redisUrl, rabbitmqUrl } = loadServices();
  log(`${rooms}×${members} on ${instances} instance(s): starting (tenant of ${rooms * members} users)`);
  const name = `chatapi-${rooms}x${members}-${instances}`;
  const system = await startChatApi({
    adminDatabaseUrl,
    redisUrl,
    rabbitmqUrl,
    logDir,
    rooms,
    members,
    instances,
    env: COST_ENV,
    name,
  });
  try {
    await quiet();
    const idle = await idleStep(system, rooms * members, options.settleS);
    log(`  ${idle.connections} idle sockets: ${idle.kbPerConnection} KB each`);
    const offeredRate = options.deliveriesPerSecond / members;
    await quiet();
    const fanout = await fanoutStep(system, offeredRate, {
      membersPerRoom: members,
      receiverProcesses: options.receiverProcesses,
      timing: options,
    });
    const cpu = cpuPerDelivery(fanout.machine, fanout.deliveries);
    log(
      `  ${offeredRate} msgs/s: ${fanout.deliveriesPerSecond} deliveries/s, µs per delivery API ${cpu.apiUs.toFixed(1)} + PostgreSQL ${cpu.dbUs.toFixed(1)}, p99 ${fanout.latency.p99Ms} ms, lost ${fanout.lost}, dup ${fanout.duplicates}, ooo ${fanout.outOfOrder}, persisted ${fanout.persisted}/${fanout.sent - fanout.errors}`,
    );
    return { rooms, members, instances, offeredRate, idle, fanout };
  } finally {
    await system.stop();
  }
}

async function main(): Promise<void> {
  let options: CostOptions;
  try {
    options = parseCostArgs(process.argv.slice(2));
  } catch (error) {
    usageError("bench:cost", error instanceof Error ? error.message : String(error), COST_USAGE);
  }
  const started = performance.now();
  const loadAverageStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const logDir = mkdtempSync(join(tmpdir(), "chatapi-bench-cost-"));
  log(`server logs in ${logDir}`);
  const cells: CostCell[] = [];
  for (const { rooms, members } of options.shapes)
    for (const instances of options.instances)
      cells.push(await measureCell(options, rooms, members, instances, logDir));
  const section = renderCostSection({
    date: new Date().toISOString(),
    commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim(),
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    loadAverageStart,
    loadAverageEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    wallS: (performance.now() - started) / 1000,
    options,
    cells,
  });
  console.log(`\n${section}`);
  if (options.write) {
    const path = join(__dirname, "RESULTS.md");
    replaceSection(path, "cost", section);
    console.log(`\nwritten to ${path}`);
  }
  rmSync(logDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
