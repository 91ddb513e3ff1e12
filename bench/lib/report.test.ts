// The targets against the durable Socket.IO peer (issue 29), judged from a run's figures.
import { describe, expect, it } from "vitest";
import type { AckResult, FanoutResult } from "../scenarios/fanout";
import { DURABLE_PEER, type RunResults, evaluateTargets, renderMarkdown } from "./report";

const summary = (p99Ms: number) => ({
  p50Ms: p99Ms / 4,
  p95Ms: p99Ms / 2,
  p99Ms,
  maxMs: p99Ms * 2,
  count: 100,
});
const machine = {
  serverCpuPct: 50,
  helperCpuPct: 20,
  machineBusyPct: 60,
  loadAverage: [1, 1, 1],
  seconds: 15,
};

function fanout(system: string, offeredRate: number, p99Ms: number, persisted?: number): FanoutResult {
  return {
    system,
    offeredRate,
    achievedRate: offeredRate,
    sent: offeredRate * 15,
    errors: 0,
    expectedDeliveries: offeredRate * 750,
    deliveries: offeredRate * 750,
    deliveriesPerSecond: offeredRate * 50,
    lost: 0,
    duplicates: 0,
    outOfOrder: 0,
    stray: 0,
    reconnects: 0,
    latency: summary(p99Ms),
    ack: summary(p99Ms),
    pacerLag: summary(1),
    senderCloses: 0,
    ...(persisted === undefined ? {} : { persisted }),
    machine: machine as FanoutResult["machine"],
  };
}

function ack(system: string, window: number, ackedPerSecond: number): AckResult {
  return { ...fanout(system, 0, 10, 1), window, ackedPerSecond, errorRatePct: 0 } as AckResult;
}

function run(peerP99: number, peerRate: number, peerAcked: number): RunResults {
  return {
    date: "2026-12-06T00:00:00Z",
    command: "npm run bench",
    commit: "abc1234",
    machine: {
      cores: 2,
      cpuModel: "x",
      memoryGb: 24,
      node: "v20",
      loadAverageStart: [1],
      loadAverageEnd: [1],
    },
    settings: {},
    labels: { chatapi: "ChatAPI", [DURABLE_PEER]: "durable Socket.IO" },
    fanout: [200, 600, 1200].flatMap((rate) => [
      fanout("chatapi", rate, 10, rate * 15),
      fanout(DURABLE_PEER, rate, peerP99, rate * 15),
    ]),
    ack: [ack("chatapi", 1, 2000), ack(DURABLE_PEER, 1, peerAcked)],
    idle: [],
    history: [],
    highestGoodRate: { chatapi: 1800, [DURABLE_PEER]: peerRate },
    targets: [],
  };
}

const durableTargets = (results: RunResults) =>
  evaluateTargets(results).filter((t) => t.target.includes("durable Socket.IO"));

describe("targets against the durable Socket.IO peer", () => {
  it("are met at 0.25× its p99, 3× its sustainable rate and 2× its acked sends", () => {
    const targets = durableTargets(run(40, 600, 1000));
    expect(targets.map((t) => [t.target, t.met])).toEqual([
      ["p99 at 200 msgs/s ≤ 0.25× the durable Socket.IO peer's", true],
      ["p99 at 600 msgs/s ≤ 0.25× the durable Socket.IO peer's", true],
      ["p99 at 1200 msgs/s ≤ 0.25× the durable Socket.IO peer's", true],
      ["highest offered rate with p99 ≤ 250 ms and 0 loss ≥ 3× the durable Socket.IO peer's", true],
      ["acked sends/s (closed loop, 1 in flight per sender) ≥ 2× the durable Socket.IO peer's", true],
    ]);
    expect(targets[1]!.measured).toBe("ChatAPI 10 ms, durable Socket.IO 40 ms (0.25×)");
  });

  it("are missed just past each bound", () => {
    const targets = durableTargets(run(39, 601, 1001));
    expect(targets.map((t) => t.met)).toEqual([false, false, false, false, false]);
  });

  it("are left out of a run without the durable peer", () => {
    const results = run(40, 600, 1000);
    delete results.labels[DURABLE_PEER];
    expect(durableTargets(results)).toEqual([]);
  });

  it("show the durable peer's database CPU and its p99 ratio in the fan-out table", () => {
    const results = run(40, 600, 1000);
    results.targets = evaluateTargets(results);
    const row = renderMarkdown(results)
      .split("\n")
      .find((line) => line.startsWith("| 600 |  | ChatAPI |"));
    // … | DB CPU | µs per delivery ((50 + 20) % of 15 s / 450000) | busy | load | vs durable | vs Socket.IO | vs raw ws |
    expect(row?.split(" | ").slice(-7)).toEqual(["20", "23", "60", "1", "0.25×", "–", "– |"]);
  });
});
