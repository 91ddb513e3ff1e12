// The benchmark in small (CI): two ChatAPI instances and the four peers, a few rooms at a low
// rate. Asserts what must hold at any speed: nothing lost, nothing duplicated, per-room order
// kept, and for ChatAPI, the durable Socket.IO peer and the durable floor every message stored. Prints the figures; never asserts a time.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServices } from "./lib/services";
import { ackStep, fanoutStep, type StepTiming } from "./scenarios/fanout";
import { startChatApi } from "./systems/chatapi";
import { startPeer } from "./systems/peers";
import type { RunningSystem } from "./systems/types";

const ROOMS = 3;
const MEMBERS = 6;
const timing: StepTiming = { warmupS: 1, durationS: 3, bodySize: 80, drainS: 20 };
const systems = new Map<string, RunningSystem>();

beforeAll(async () => {
  const services = loadServices();
  const logDir = mkdtempSync(join(tmpdir(), "chatapi-bench-ci-"));
  const options = {
    redisUrl: services.redisUrl,
    adminDatabaseUrl: services.databaseUrl,
    logDir,
    rooms: ROOMS,
    members: MEMBERS,
  };
  const started = await Promise.allSettled([
    startChatApi({ ...options, rabbitmqUrl: services.rabbitmqUrl }),
    startPeer("socketio", options),
    startPeer("socketio-pg", options),
    startPeer("ws-redis", options),
    startPeer("ws-redis-pg", options),
  ]);
  for (const s of started) if (s.status === "fulfilled") systems.set(s.value.name, s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
});

afterAll(async () => {
  await Promise.all([...systems.values()].map((s) => s.stop()));
});

const DURABLE = new Set(["chatapi", "socketio-pg", "ws-redis-pg"]);

describe.each(["chatapi", "socketio", "socketio-pg", "ws-redis", "ws-redis-pg"] as const)(
  "benchmark in small: %s",
  (name) => {
    it("fans out 60 msgs/s to 3 rooms × 6 members on two instances: none lost, duplicated or reordered", async () => {
      const system = systems.get(name)!;
      const r = await fanoutStep(system, 60, { membersPerRoom: MEMBERS, receiverProcesses: 2, timing });
      console.log(
        `${name} fan-out at 60 msgs/s: ${r.deliveries}/${r.expectedDeliveries} delivered, ${r.deliveriesPerSecond} deliveries/s, ` +
          `p50 ${r.latency.p50Ms} p99 ${r.latency.p99Ms} max ${r.latency.maxMs} ms, ack p99 ${r.ack.p99Ms} ms, ` +
          `server CPU ${r.machine.serverCpuPct}%, load ${r.machine.loadAverage.join(" ")}`,
      );
      expect(r.sent).toBeGreaterThan(100);
      expect({ errors: r.errors, firstError: r.firstError, senderCloses: r.senderCloses }).toEqual({
        errors: 0,
        firstError: undefined,
        senderCloses: 0,
      });
      expect(r.expectedDeliveries).toBe(r.sent * MEMBERS);
      expect({ lost: r.lost, duplicates: r.duplicates, outOfOrder: r.outOfOrder, stray: r.stray }).toEqual({
        lost: 0,
        duplicates: 0,
        outOfOrder: 0,
        stray: 0,
      });
      expect(r.deliveries).toBe(r.expectedDeliveries);
      if (DURABLE.has(name)) {
        expect(r.persisted).toBe(r.sent);
        // Its database backends were timed (CPU per delivery includes them).
        expect(r.machine.helperCpuPct).toBeGreaterThan(0);
      } else expect(r.persisted).toBeUndefined();
    });

    it("acks sends in a closed loop, each delivered once and in order", async () => {
      const system = systems.get(name)!;
      const r = await ackStep(system, { window: 1, membersPerRoom: 1, timing: { ...timing, durationS: 2 } });
      console.log(
        `${name} closed loop: ${r.ackedPerSecond} acked sends/s, ack p50 ${r.ack.p50Ms} p99 ${r.ack.p99Ms} ms, ` +
          `errors ${r.errorRatePct}%, load ${r.machine.loadAverage.join(" ")}`,
      );
      expect(r.sent).toBeGreaterThan(0);
      // A closed sender leaves its last send unacknowledged: say why before the error rate does.
      expect({ senderCloses: r.senderCloses, firstError: r.firstError }).toEqual({
        senderCloses: 0,
        firstError: undefined,
      });
      expect(r.errorRatePct).toBe(0);
      expect({ lost: r.lost, duplicates: r.duplicates, outOfOrder: r.outOfOrder }).toEqual({
        lost: 0,
        duplicates: 0,
        outOfOrder: 0,
      });
      if (DURABLE.has(name)) expect(r.persisted).toBe(r.sent);
    });
  },
);
