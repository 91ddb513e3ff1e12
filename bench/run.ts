// npm run bench: ChatAPI against Socket.IO (+ redis adapter) and raw ws + Redis, same machine,
// same generator, two instances each, scenarios interleaved so all systems see the same load.
// Usage: npm run bench -- [--scenarios idle,fanout,ack,history] [--rates 200,600,1200,...]
//        [--systems chatapi,socketio,socketio-pg,ws-redis,ws-redis-pg] [--duration 15] [--quick] (see bench/README.md)
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, setPriority, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseCommandLine } from "../scripts/lib/cli-args";
import { SYSTEMS, type SystemName } from "./lib/clients";
import {
  evaluateTargets,
  floorTargets,
  medianByP99,
  passes,
  renderMarkdown,
  TARGET_RATE,
  type RunResults,
} from "./lib/report";
import { startPrivateServices, type PrivateServices } from "./lib/private-services";
import { keptSections } from "./lib/results-section";
import { loadServices } from "./lib/services";
import { ackStep, fanoutStep, type FanoutResult, type StepTiming } from "./scenarios/fanout";
import { historyStep } from "./scenarios/history";
import { idleStep } from "./scenarios/idle";
import { settle } from "./lib/meter";
import { openFileLimit, processesFor } from "./lib/proc-readings";
import { startChatApi, type ChatApiSystem } from "./systems/chatapi";
import { startPeer } from "./systems/peers";
import type { RunningSystem } from "./systems/types";

const ROOT = join(__dirname, "..");
const usage = `usage: npm run bench -- [--scenarios idle,fanout,ack,history] [--rates 200,600,1200,...]
         [--systems chatapi,socketio,socketio-pg,ws-redis,ws-redis-pg] [--duration 15] [--quick] ... (every option: bench/README.md)`;
const { values } = parseCommandLine("bench", usage, {
  options: {
    systems: { type: "string", default: SYSTEMS.join(",") },
    scenarios: { type: "string", default: "idle,fanout,ack,history" },
    rooms: { type: "string", default: "20" },
    members: { type: "string", default: "50" },
    rates: { type: "string", default: "200,600,1200,1800,2400,3600" },
    duration: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    drain: { type: "string", default: "20" },
    body: { type: "string", default: "100" },
    receivers: { type: "string", default: "2" },
    "ack-window": { type: "string", default: "1,8" },
    "ack-members": { type: "string", default: "1" },
    idle: { type: "string", default: "10000" },
    "idle-at-scale": { type: "string", default: "50000" },
    "history-rate": { type: "string", default: "500" },
    "history-duration": { type: "string", default: "20" },
    out: { type: "string", default: join(ROOT, "bench", "RESULTS.md") },
    json: { type: "string", default: join(ROOT, "bench", "results.json") },
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    baseline: { type: "string" },
    "keep-going": { type: "boolean", default: false },
    "private-services": { type: "boolean", default: false },
    nice: { type: "string" },
    repeat: { type: "string", default: "5" },
  },
});

const num = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--${name} must be a positive number (got ${String(values[name])})`);
  return n;
};
const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const systems = list(values.systems!) as SystemName[];
for (const s of systems)
  if (!SYSTEMS.includes(s)) throw new Error(`--systems: unknown system ${s}; known: ${SYSTEMS.join(", ")}`);
const scenarios = list(values.scenarios!);
for (const s of scenarios)
  if (!["idle", "fanout", "ack", "history"].includes(s))
    throw new Error(`--scenarios: unknown scenario ${s}`);
const quick = values.quick!;
const rates = quick ? [100, 300] : list(values.rates!).map(Number);
const rooms = quick ? 4 : num("rooms");
const members = quick ? 10 : num("members");
const timing: StepTiming = {
  warmupS: quick ? 1 : num("warmup"),
  durationS: quick ? 4 : num("duration"),
  bodySize: num("body"),
  drainS: num("drain"),
};
const idleConnections = quick ? 500 : num("idle");
/** ChatAPI alone, on fresh instances enough for the open-file limit; 0 skips it. */
const idleAtScale = quick ? 0 : Number(values["idle-at-scale"]);
if (!Number.isInteger(idleAtScale) || idleAtScale < 0)
  throw new Error(`--idle-at-scale must be a whole number, 0 to skip (got ${values["idle-at-scale"]})`);
const repeat = quick ? 1 : num("repeat");
if (!Number.isInteger(repeat)) throw new Error(`--repeat must be a whole number (got ${values.repeat})`);

/** Before every step: let what the previous step left behind finish (see settle). */
async function quiet(): Promise<void> {
  const { waitedMs, busyPct } = await settle();
  if (busyPct >= 15) log(`  machine still ${busyPct}% busy after ${waitedMs} ms; measuring anyway`);
}

const log = (...parts: unknown[]) =>
  console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0]!.toFixed(1)}]`, ...parts);

async function main(): Promise<void> {
  // --nice N: this process and everything it starts (servers, generator, private PostgreSQL and
  // Redis) run at that priority, so unrelated work on a shared machine disturbs the figures less.
  if (values.nice !== undefined) {
    const nice = Number(values.nice);
    if (!Number.isInteger(nice) || nice < -20 || nice > 19)
      throw new Error(`--nice must be an integer in -20..19 (got ${values.nice})`);
    if (!values["private-services"])
      throw new Error(
        "--nice needs --private-services (the shared PostgreSQL and Redis would keep their priority)",
      );
    setPriority(nice);
  }
  const shared = loadServices();
  let privateServices: PrivateServices | undefined;
  if (values["private-services"]) {
    log("starting a private PostgreSQL and Redis");
    privateServices = await startPrivateServices(shared.rabbitmqUrl);
  }
  const services = privateServices ?? shared;
  const logDir = mkdtempSync(join(tmpdir(), "chatapi-bench-"));
  log(`server logs in ${logDir}`);
  // --profile: every server writes a V8 CPU profile on exit (open in Chrome DevTools or
  // speedscope; npx tsx bench/tools/profile-summary.ts <file> prints the hot functions).
  const nodeArgs = values.profile ? ["--cpu-prof", `--cpu-prof-dir=${join(logDir, "profiles")}`] : [];
  if (values.profile) log(`CPU profiles in ${join(logDir, "profiles")}`);
  const results: RunResults = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim(),
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageStart: loadavg().map((x) => Math.round(x * 100) / 100),
      loadAverageEnd: [],
    },
    settings: {
      services: values["private-services"]
        ? "private PostgreSQL 15 + Redis (fsync on)"
        : "shared (scripts/setup)",
      nice: values.nice === undefined ? 0 : Number(values.nice),
      rooms,
      members,
      rates,
      ...timing,
      receiverProcesses: num("receivers"),
      ackWindows: list(values["ack-window"]!).map(Number),
      idleConnections,
      idleAtScale,
    },
    labels: {},
    fanout: [],
    ack: [],
    idle: [],
    history: [],
    highestGoodRate: {},
    targets: [],
  };
  const running: RunningSystem[] = [];
  /** How every ChatAPI of the run starts (the baseline and the at-scale one add to it). */
  const chatApiOptions = {
    adminDatabaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    rabbitmqUrl: services.rabbitmqUrl,
    logDir,
    rooms,
    members,
    nodeArgs,
  };
  const stopAll = async () => {
    await Promise.all(
      running.splice(0).map((s) => s.stop().catch((e: unknown) => console.error(`stopping ${s.name}:`, e))),
    );
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    for (const name of systems) {
      log(`starting ${name} (2 instances)`);
      const system =
        name === "chatapi"
          ? await startChatApi(chatApiOptions)
          : await startPeer(name, {
              redisUrl: services.redisUrl,
              adminDatabaseUrl: services.databaseUrl,
              logDir,
              rooms,
              members,
              nodeArgs,
            });
      running.push(system);
      results.labels[name] = system.label;
    }
    // --baseline DIR: a second ChatAPI build (bench/tools/build-baseline.sh) in the same run,
    // to measure what an app change did under the same load.
    if (values.baseline) {
      log(`starting chatapi-baseline from ${values.baseline}`);
      const baseline = await startChatApi({
        ...chatApiOptions,
        name: "chatapi-baseline",
        appDir: values.baseline,
      });
      running.push(baseline);
      results.labels[baseline.name] = `ChatAPI baseline (${values.baseline})`;
    }
    // Rotate the order every round so no system always runs right after the same neighbour.
    const rotated = (round: number) => running.map((_, i) => running[(i + round) % running.length]!);

    if (scenarios.includes("idle")) {
      for (const system of running) {
        log(`idle: ${system.name}, ${idleConnections} connections`);
        await quiet();
        const r = await idleStep(system, idleConnections, quick ? 2 : 5);
        log(`  ${r.kbPerConnection} KB per connection`);
        results.idle.push(r);
      }
      if (idleAtScale > 0 && systems.includes("chatapi")) {
        // One process may not hold them all (ulimit -n): as many instances as the limit needs.
        const instances = Math.max(2, processesFor(idleAtScale));
        log(
          `idle at scale: chatapi, ${idleAtScale} connections over ${instances} fresh instances (ulimit -n ${openFileLimit()})`,
        );
        const scaled = await startChatApi({
          ...chatApiOptions,
          instances,
          name: "chatapi-idle-at-scale",
        });
        try {
          await quiet();
          const r = await idleStep(scaled, idleAtScale, 5);
          log(`  ${r.kbPerConnection} KB per connection`);
          results.idle.push({ ...r, system: "chatapi" });
        } finally {
          await scaled.stop();
        }
      }
    }
    if (scenarios.includes("fanout")) {
      const failed = new Set<string>();
      for (const [round, rate] of rates.entries()) {
        // The target rate's step is repeated (the systems interleaved, the order rotating): one
        // p99 from a shared 2-core machine swings several-fold between minutes.
        const repeats = rate === TARGET_RATE ? repeat : 1;
        const steps = new Map<string, FanoutResult[]>();
        for (let rep = 0; rep < repeats; rep++) {
          for (const system of rotated(round + rep)) {
            if (failed.has(system.name) && !values["keep-going"]) continue;
            const which = repeats > 1 ? ` (repetition ${rep + 1} of ${repeats})` : "";
            log(`fan-out: ${system.name} at ${rate} msgs/s (${rooms} rooms × ${members} members)${which}`);
            await quiet();
            const r = await fanoutStep(system, rate, {
              membersPerRoom: members,
              receiverProcesses: num("receivers"),
              timing,
            });
            log(
              `  ${r.deliveriesPerSecond} deliveries/s, p50 ${r.latency.p50Ms} p99 ${r.latency.p99Ms} max ${r.latency.maxMs} ms, lost ${r.lost}, dup ${r.duplicates}, ooo ${r.outOfOrder}, errors ${r.errors}, server CPU ${r.machine.serverCpuPct}%, DB CPU ${r.machine.helperCpuPct}%${r.firstError ? `, first error ${r.firstError}` : ""}`,
            );
            results.fanout.push(repeats > 1 ? { ...r, repeat: rep } : r);
            steps.set(system.name, [...(steps.get(system.name) ?? []), r]);
          }
        }
        // A rate counts as passed on its median run, and only if no run lost anything.
        for (const [name, runs] of steps) {
          const median = medianByP99(runs)!;
          const intact = runs.every((r) => r.lost === 0 && r.duplicates === 0 && r.outOfOrder === 0);
          if (passes(median) && intact)
            results.highestGoodRate[name] = Math.max(results.highestGoodRate[name] ?? 0, rate);
          else failed.add(name);
        }
      }
      for (const system of running) results.highestGoodRate[system.name] ??= 0;
    }
    if (scenarios.includes("ack")) {
      for (const [round, window] of list(values["ack-window"]!).map(Number).entries()) {
        if (!Number.isInteger(window) || window < 1)
          throw new Error(`--ack-window: ${window} is not a positive integer`);
        for (const system of rotated(round + 1)) {
          log(`acked sends (closed loop, ${window} in flight per sender): ${system.name}`);
          await quiet();
          const r = await ackStep(system, { window, membersPerRoom: num("ack-members"), timing });
          log(
            `  ${r.ackedPerSecond} acked/s, ack p50 ${r.ack.p50Ms} p99 ${r.ack.p99Ms} ms, errors ${r.errorRatePct}%, server CPU ${r.machine.serverCpuPct}%, DB CPU ${r.machine.helperCpuPct}%${r.firstError ? `, first error ${r.firstError}` : ""}`,
          );
          results.ack.push(r);
        }
      }
    }
    if (scenarios.includes("history")) {
      const chat = running.find((s) => s.name === "chatapi") as ChatApiSystem | undefined;
      if (chat) {
        for (let rep = 0; rep < repeat; rep++) {
          const which = repeat > 1 ? ` (repetition ${rep + 1} of ${repeat})` : "";
          log(`history GET at ${num("history-rate")} req/s${which}`);
          await quiet();
          const r = await historyStep(chat, num("history-rate"), {
            warmupS: timing.warmupS,
            durationS: quick ? 5 : num("history-duration"),
          });
          log(
            `  open loop: ${r.requestsPerSecond} req/s, p50 ${r.latency.p50Ms} p99 ${r.latency.p99Ms} ms, non-2xx ${r.non2xx}, errors ${r.errors}; ` +
              `autocannon: ${r.autocannon.requestsPerSecond} req/s, p99 ${r.autocannon.perInstance.map((p) => p.p99Ms).join("/")} ms`,
          );
          results.history.push(repeat > 1 ? { ...r, repeat: rep } : r);
        }
      }
    }
  } finally {
    await stopAll();
    await privateServices?.stop();
  }
  results.machine.loadAverageEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  results.targets = evaluateTargets(results);
  results.floorTargets = floorTargets(results);
  writeFileSync(values.json!, `${JSON.stringify(results, null, 2)}\n`);
  // Sections other measurements wrote (npm run bench:redis-cluster, npm run bench:cost) stay.
  writeFileSync(values.out!, renderMarkdown(results) + keptSections(values.out!));
  log(`wrote ${values.out} and ${values.json}`);
  for (const t of results.targets)
    log(`${t.met === null ? "n/a" : t.met ? "MET " : "MISS"} ${t.target}: ${t.measured}`);
  for (const t of results.floorTargets)
    log(`floor ${t.met ? "would meet" : "misses"} ${t.target}: ${t.measured}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
