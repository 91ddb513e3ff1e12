// npm run bench:cost's pure parts: its command line, the cost arithmetic and the RESULTS.md section.
import { describe, expect, it } from "vitest";
import type { FanoutResult } from "../scenarios/fanout";
import { differencesFromDefaults, parseCostArgs, parseInstances, parseShapes } from "./cost-options";
import { fitCells, renderCostSection, type CostCell, type CostRun } from "./cost-report";
import { cpuPerDelivery, fitCostLine, sizeCluster, usPerDeliveryOf } from "./cost-sizing";
import type { MachineReading } from "./meter";

describe("bench:cost command line", () => {
  it("reads shapes and instance counts", () => {
    expect(parseShapes("20x50, 200×50,20X500")).toEqual([
      { rooms: 20, members: 50 },
      { rooms: 200, members: 50 },
      { rooms: 20, members: 500 },
    ]);
    expect(parseInstances("1,2,4")).toEqual([1, 2, 4]);
  });

  it("names what is wrong with a shape or a count", () => {
    expect(() => parseShapes("20y50")).toThrow('--shapes: "20y50" is not ROOMSxMEMBERS (e.g. 20x50)');
    expect(() => parseShapes("0x50")).toThrow('--shapes: "0" is not a whole number ≥ 1');
    expect(() => parseShapes("20x50,20x50")).toThrow("--shapes: 20x50 is given twice");
    expect(() => parseShapes(" , ")).toThrow("--shapes: no shape given (e.g. 20x50,200x50,20x500)");
    expect(() => parseInstances("1.5")).toThrow('--instances: "1.5" is not a whole number ≥ 1');
    expect(() => parseInstances("0")).toThrow('--instances: "0" is not a whole number ≥ 1');
    expect(() => parseInstances("27")).toThrow("--instances: 27 is more than 26 instances");
    expect(() => parseInstances("2,4,2")).toThrow("--instances: 2 is given twice");
  });

  it("defaults to the full grid at 20,000 deliveries/s, and takes a smoke run's options", () => {
    const full = parseCostArgs([]);
    expect(full).toMatchObject({
      instances: [1, 2, 4],
      deliveriesPerSecond: 20_000,
      warmupS: 3,
      durationS: 15,
      write: false,
    });
    expect(full.shapes).toHaveLength(3);
    expect(differencesFromDefaults(full)).toEqual([]);
    const smoke = parseCostArgs(["--shapes", "2x5", "--instances=1", "--duration", "1", "--write"]);
    expect(smoke).toMatchObject({
      shapes: [{ rooms: 2, members: 5 }],
      instances: [1],
      durationS: 1,
      write: true,
    });
    expect(differencesFromDefaults(smoke)).toEqual([
      "--shapes 2x5 (full: 20x50,200x50,20x500)",
      "--instances 1 (full: 1,2,4)",
      "--duration 1 (full: 15)",
    ]);
  });

  it("refuses unknown options and bad numbers in one line", () => {
    expect(() => parseCostArgs(["--rates", "600"])).toThrow("unknown option '--rates'");
    expect(() => parseCostArgs(["--deliveries=lots"])).toThrow(
      '--deliveries must be a positive number (got "lots")',
    );
    expect(() => parseCostArgs(["--duration=0"])).toThrow('--duration must be a positive number (got "0")');
    expect(() => parseCostArgs(["extra"])).toThrow("unexpected argument 'extra'");
  });
});

const machine = (serverCpuPct: number, helperCpuPct: number, seconds = 18): MachineReading => ({
  loadAverage: [1.5, 1.2, 1],
  machineBusyPct: 80,
  serverCpuPct,
  helperCpuPct,
  seconds,
});

describe("cost arithmetic", () => {
  it("splits CPU per delivery into the API and PostgreSQL", () => {
    // 80 % of a core for 18 s over 360,000 deliveries: 40 µs each; 20 %: 10 µs.
    expect(cpuPerDelivery(machine(80, 20), 360_000)).toEqual({ apiUs: 40, dbUs: 10, totalUs: 50 });
    expect(cpuPerDelivery(machine(80, 20), 0).totalUs).toBeNaN();
  });

  it("fits µs per delivery = per delivery + per message ÷ members", () => {
    // 300 µs per message and 20 µs per delivery: 26 µs in rooms of 50, 20.6 in rooms of 500.
    const exact = fitCostLine([
      { members: 50, usPerDelivery: 26 },
      { members: 500, usPerDelivery: 20.6 },
    ])!;
    expect(exact.perMessageUs).toBeCloseTo(300, 9);
    expect(exact.perDeliveryUs).toBeCloseTo(20, 9);
    expect(usPerDeliveryOf(exact, 100)).toBeCloseTo(23, 9);
    // Two shapes of 50 members (26 and 28 µs): the line goes through their mean.
    const noisy = fitCostLine([
      { members: 50, usPerDelivery: 26 },
      { members: 50, usPerDelivery: 28 },
      { members: 500, usPerDelivery: 20.6 },
    ])!;
    expect(noisy.perMessageUs).toBeCloseTo(6.4 / 0.018, 9);
    expect(noisy.perDeliveryUs).toBeCloseTo(20.6 - (6.4 / 0.018) * 0.002, 9);
    expect(fitCostLine([{ members: 50, usPerDelivery: 26 }])).toBeUndefined();
    expect(
      fitCostLine([
        { members: 50, usPerDelivery: 26 },
        { members: 50, usPerDelivery: 27 },
      ]),
    ).toBeUndefined();
  });

  it("never fits a negative cost per message: the flat line through the mean instead", () => {
    const flat = fitCostLine([
      { members: 50, usPerDelivery: 30 },
      { members: 500, usPerDelivery: 35 },
    ])!;
    expect(flat.perMessageUs).toBe(0);
    expect(flat.perDeliveryUs).toBeCloseTo(32.5, 9);
  });

  it("sizes cores and memory for a load", () => {
    const figures = {
      api: { perMessageUs: 300, perDeliveryUs: 20 },
      db: { perMessageUs: 350, perDeliveryUs: 0.5 },
      kbPerSocket: 8,
      baseMbPerInstance: 140,
    };
    const size = sizeCluster(figures, {
      messagesPerSecond: 2000,
      members: 50,
      sockets: 50_000,
      instances: 2,
      utilisation: 0.6,
    });
    // API: 2000 × (300 + 50 × 20) µs = 2.6 core-s per s, ÷ 0.6; PostgreSQL: 2000 × 375 µs ÷ 0.6.
    expect(size.deliveriesPerSecond).toBe(100_000);
    expect(size.apiCores).toBeCloseTo(2.6 / 0.6, 9);
    expect(size.dbCores).toBeCloseTo(1.25, 9);
    expect(size.memoryMb).toBeCloseTo(280 + 390.625, 9);
    const load = { messagesPerSecond: 1, members: 1, sockets: 1, instances: 1 };
    expect(() => sizeCluster(figures, { ...load, utilisation: 0 })).toThrow(
      "utilisation must be in (0, 1] (got 0)",
    );
    expect(() => sizeCluster(figures, { ...load, utilisation: 1.5 })).toThrow("(got 1.5)");
  });
});

function cell(
  rooms: number,
  members: number,
  cpu: [number, number],
  idle: { kb: number; beforeMb: number },
  faults: Partial<FanoutResult> = {},
): CostCell {
  const latency = { count: 1, p50Ms: 1.5, p95Ms: 5, p99Ms: 12.3, maxMs: 20 };
  const sent = 18 * (20_000 / members);
  const fanout: FanoutResult = {
    system: "chatapi",
    offeredRate: 20_000 / members,
    achievedRate: 20_000 / members,
    sent,
    errors: 0,
    expectedDeliveries: 360_000,
    deliveries: 360_000,
    deliveriesPerSecond: 20_000,
    lost: 0,
    duplicates: 0,
    outOfOrder: 0,
    stray: 0,
    reconnects: 0,
    latency,
    ack: latency,
    pacerLag: latency,
    persisted: sent,
    senderCloses: 0,
    machine: machine(...cpu),
    ...faults,
  };
  return {
    rooms,
    members,
    instances: 1,
    offeredRate: 20_000 / members,
    idle: {
      system: "chatapi",
      connections: rooms * members,
      rssBeforeMb: [idle.beforeMb],
      rssAfterMb: [idle.beforeMb + (idle.kb * rooms * members) / 1024],
      kbPerConnection: idle.kb,
    },
    fanout,
  };
}

const run = (cells: CostCell[], args: string[] = []): CostRun => ({
  date: "2026-12-07T03:15:00.000Z",
  commit: "abc1234",
  machine: { cores: 2, cpuModel: "AMD EPYC", memoryGb: 24, node: "v20.20.2" },
  loadAverageStart: [1, 1, 1],
  loadAverageEnd: [2, 2, 2],
  wallS: 600,
  options: parseCostArgs(args),
  cells,
});

describe("RESULTS.md section", () => {
  // 20×50: API 60 % and PostgreSQL 10 % of a core over 18 s for 360,000 deliveries (30 + 5 µs);
  // 20×500: 44 % and 1 % (22 + 0.5 µs). So API 444.4 µs per message + 21.11 per delivery,
  // PostgreSQL 250 + 0.
  const cells = [
    cell(20, 50, [60, 10], { kb: 9, beforeMb: 140 }),
    cell(20, 500, [44, 1], { kb: 7.9, beforeMb: 150 }),
  ];

  it("has a row per cell, the fitted costs, the memory and the example's size", () => {
    const text = renderCostSection(run(cells));
    expect(text).not.toContain("Smoke run");
    // 1,000 sockets on one instance do not resolve a socket's RSS: shown in parentheses, left out.
    expect(text).toContain(
      "| 20 × 50 | 1 | 1000 | 400 | 400 | 20000 | 30.0 | 5.0 | 35.0 | 60 | 10 | 140 | (9) | 1.5 | 12.3 | 0 | 0 | 0 | 7200/7200 | 80 | 1.5 |",
    );
    expect(text).toContain(
      "| 20 × 500 | 1 | 10000 | 40 | 40 | 20000 | 22.0 | 0.5 | 22.5 | 44 | 1 | 150 | 7.9 |",
    );
    expect(text).toContain("Lost, duplicated, out of order, refused: 0 in every cell");
    expect(text).toContain("| 1 | 444.4 | 21.11 | 250.0 | 0.00 | 0.0 % |");
    expect(text).toContain(
      "7.9 KB of API RSS per idle socket (Σ growth ÷ Σ sockets), 7.9 KB at most, over the cells with at least 2,500 sockets per instance (1 cell with fewer left out",
    );
    expect(text).toContain("an instance's RSS before any socket 145.0 MB on average, 150.0 MB at most");
    expect(text).toContain(
      "For 30,000 deliveries/s in rooms of 50 (600 msgs/s), 10,000 sockets, at 60 % utilisation",
    );
    // 600 msgs/s × (444.4 + 50 × 21.11) µs = 0.9 core ÷ 0.6 = 1.5: more than one instance's core;
    // PostgreSQL 600 × 250 µs ÷ 0.6; memory 150 MB + 10,000 × 7.9 KB.
    expect(text).toContain("| 1 | 1.50 | 1.50 | no | 0.25 | 227 |");
  });

  it("plans memory with the highest resolved reading, and says which instance counts fit", () => {
    const onTwo = (c: CostCell, kb: number): CostCell => ({
      ...c,
      instances: 2,
      idle: { ...c.idle, kbPerConnection: kb, rssBeforeMb: [160, 130] },
    });
    // On 2 instances 20×50 has 500 sockets each (left out), 20×500 5,000 each (kept).
    const text = renderCostSection(run([...cells, onTwo(cells[0]!, -12), onTwo(cells[1]!, 12.1)]));
    expect(text).toContain(
      "| 20 × 50 | 2 | 1000 | 400 | 400 | 20000 | 30.0 | 5.0 | 35.0 | 60 | 10 | 160 + 130 | (-12) |",
    );
    // (10,000 × 7.9 + 10,000 × 12.1) ÷ 20,000 = 10 on average; the sizing takes 12.1 and 160 MB.
    expect(text).toContain("10.0 KB of API RSS per idle socket (Σ growth ÷ Σ sockets), 12.1 KB at most");
    expect(text).toContain("(2 cells with fewer left out");
    expect(text).toContain("an instance's RSS before any socket 145.0 MB on average, 160.0 MB at most");
    // 1.5 API cores over 2 instances fits; memory 2 × 160 MB + 10,000 × 12.1 KB.
    expect(text).toContain("| 1 | 1.50 | 1.50 | no | 0.25 | 278 |");
    expect(text).toContain("| 2 | 1.50 | 0.75 | yes | 0.25 | 438 |");
  });

  it("fits on the shapes whose rooms get the same msgs/s, and says so; the busy rooms' cell shows as the miss", () => {
    // 20×50 at 20 msgs/s per room costs 25 µs; 200×50 and 20×500 at 2 msgs/s per room 30 and 21.9:
    // fitted on those two, 450 µs per message + 21 per delivery, which overstates 20×50 (30 µs for 25) by 20 %.
    const busy = cell(20, 50, [50, 0], { kb: 9, beforeMb: 140 });
    const quiet = cell(200, 50, [60, 0], { kb: 7, beforeMb: 150 });
    const wide = cell(20, 500, [43.8, 0], { kb: 7, beforeMb: 150 });
    expect(fitCells([busy, quiet, wide])).toEqual([quiet, wide]);
    expect(fitCells([busy, wide])).toEqual([busy, wide]);
    const text = renderCostSection(run([busy, quiet, wide]));
    expect(text).toContain(
      "per instance count, over the shapes whose rooms get the same 2 msgs/s each (200 × 50 and 20 × 500)",
    );
    expect(text).toContain("| 1 | 450.0 | 21.00 | 0.0 | 0.00 | +20.0 % |");
    expect(renderCostSection(run(cells))).toContain("over every shape (20 × 50 and 20 × 500)");
  });

  it("says when a run is a smoke run, and which cells lost, duplicated or reordered", () => {
    const bad = [
      cells[0]!,
      cell(20, 500, [44, 1], { kb: 7.9, beforeMb: 150 }, { lost: 3, duplicates: 1, persisted: 700 }),
    ];
    const text = renderCostSection(run(bad, ["--duration", "2"]));
    expect(text).toContain("**Smoke run, not the full measurement** (it differs in --duration 2 (full: 15))");
    expect(text).toContain(
      "**Not every delivery was right:** 20×500 on 1: 3 lost, 1 duplicated, 700/720 persisted.",
    );
    expect(text).not.toContain("0 in every cell");
  });

  it("cannot fit one room size, and says so", () => {
    expect(renderCostSection(run([cells[0]!]))).toContain("| 1 | – | – | – | – | needs two room sizes |");
  });
});
