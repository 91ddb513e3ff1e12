// The sharded fan-out (SSUBSCRIBE / SPUBLISH) on a real 3-master, 3-replica Redis Cluster of
// Debian's redis-server on loopback: rooms spread over the shards, each node carries only its
// shard's traffic (classic PUBLISH is relayed to every node: measured beside it), each instance
// subscribes only to its own rooms, and payloads published while a master fails over are kept and
// arrive once its replica took over.
import calculateSlot from "cluster-key-slot";
import { Cluster, Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShardedRedisFanout } from "../src/infra/sharded-redis-fanout.js";
import { PrivateRedisCluster } from "./support/redis-cluster.js";
import { uniqueSuffix } from "./support/services.js";

const logger = pino({ level: process.env.CHATAPI_TEST_LOG_LEVEL ?? "silent" });
const PASSWORD = `cluster-${uniqueSuffix()}`;
let cluster: PrivateRedisCluster;
const fanouts: ShardedRedisFanout[] = [];
const prefix = `chatapi-test-${uniqueSuffix()}:`;

async function startFanout(instanceName: string, password = PASSWORD): Promise<ShardedRedisFanout> {
  const nodes = cluster.ports.slice(0, 2).map((port) => ({ host: "127.0.0.1", port }));
  const fanout = new ShardedRedisFanout({ nodes, password, prefix, instanceName, logger });
  fanouts.push(fanout);
  await fanout.start();
  return fanout;
}

function collect(fanout: ShardedRedisFanout) {
  const arrived: string[] = [];
  let resyncs = 0;
  fanout.setHandlers({
    onMessage: (roomId, payload) => arrived.push(`${roomId} ${payload.toString()}`),
    onResync: () => resyncs++,
  });
  return { arrived, resyncs: () => resyncs };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Per node (client port): a counter summed over every node's INFO / CLUSTER INFO. */
async function perNode(field: string, command: string[]): Promise<Map<number, number>> {
  const values = new Map<number, number>();
  for (const port of cluster.ports) values.set(port, (await cluster.info(port, ...command))[field] ?? 0);
  return values;
}

const total = (counts: Map<number, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

const delta = (after: Map<number, number>, before: Map<number, number>) =>
  new Map([...after].map(([port, v]) => [port, v - (before.get(port) ?? 0)]));

beforeAll(async () => {
  cluster = await PrivateRedisCluster.start({ password: PASSWORD });
});

afterAll(async () => {
  await Promise.all(fanouts.map((f) => f.close()));
  await cluster?.dispose();
});

describe("ShardedRedisFanout on a 3-master Redis Cluster", () => {
  it("refuses a wrong password, naming the cluster", async () => {
    const nodes = [{ host: "127.0.0.1", port: cluster.ports[0]! }];
    const wrong = new ShardedRedisFanout({ nodes, password: "wrong", prefix, instanceName: "wrong", logger });
    await expect(wrong.start()).rejects.toThrow();
    await wrong.close();
  });

  it("delivers a room's messages across instances, and readiness probes every shard", async () => {
    const a = await startFanout("fanout-a");
    const b = await startFanout("fanout-b");
    const onB = collect(b);
    collect(a);
    await b.subscribe("room-1");
    a.publish("room-1", Buffer.from("M1 first"));
    a.publish("room-1", Buffer.from("M2 second"));
    await until("both messages on B", () => onB.arrived.length >= 2);
    expect(onB.arrived).toEqual(["room-1 M1 first", "room-1 M2 second"]);
    await expect(a.check(5000)).resolves.toBeUndefined();
    // One probe channel per master: every shard has a subscriber connection of each instance.
    for (const master of await cluster.masters()) {
      const channels = await cluster.cli(master.port, "PUBSUB", "SHARDCHANNELS", `${prefix}probe:*`);
      expect(channels.split("\n").filter(Boolean)).toHaveLength(2);
    }
  });

  it("spreads 300 rooms over the 3 shards within ±20 % of an even share", async () => {
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    const perMaster = new Map<number, number>(masters.map((m) => [m.port, 0]));
    for (let i = 0; i < 300; i++) {
      const slot = calculateSlot(`${prefix}room:${roomId(i)}`);
      const owner = masters.find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to))!;
      perMaster.set(owner.port, perMaster.get(owner.port)! + 1);
    }
    for (const count of perMaster.values()) {
      expect(count).toBeGreaterThanOrEqual(80);
      expect(count).toBeLessThanOrEqual(120);
    }
  });

  it("with SPUBLISH each node carries only its shard's messages; PUBLISH reaches every node", async () => {
    const masters = await cluster.masters();
    const rooms = Array.from({ length: 300 }, (_, i) => roomId(i));
    const owners = new Map<number, number>(); // master port -> messages of its shard
    for (const room of rooms) {
      const port = await cluster.ownerOf(calculateSlot(`${prefix}room:${room}`));
      owners.set(port, (owners.get(port) ?? 0) + 1);
    }
    const client = new Cluster([{ host: "127.0.0.1", port: cluster.ports[0]! }], {
      redisOptions: { password: PASSWORD },
    });
    try {
      // Sharded: each room's message goes to its master (commandstats) and from there only to that
      // master's replica over the cluster bus (publishshard messages).
      const sharded = [
        await perNode("cmdstat_spublish", ["INFO", "commandstats"]),
        await perNode("cluster_stats_messages_publishshard_received", ["CLUSTER", "INFO"]),
      ];
      for (const room of rooms) await client.spublish(`${prefix}room:${room}`, "x");
      const spublishCalls = delta(await perNode("cmdstat_spublish", ["INFO", "commandstats"]), sharded[0]!);
      // The cluster bus relays asynchronously: read until every relayed message was counted.
      const relayed = async (field: string, before: Map<number, number>, expected: number) => {
        let counts = new Map<number, number>();
        await until(`${expected} ${field}`, async () => {
          counts = delta(await perNode(field, ["CLUSTER", "INFO"]), before);
          return total(counts) >= expected;
        });
        await new Promise((r) => setTimeout(r, 300)); // and nothing more arrives
        return delta(await perNode(field, ["CLUSTER", "INFO"]), before);
      };
      const shardReceived = await relayed("cluster_stats_messages_publishshard_received", sharded[1]!, 300);
      // Classic: the same messages with PUBLISH, relayed by the cluster bus to every other node.
      const classicBefore = await perNode("cluster_stats_messages_publish_received", ["CLUSTER", "INFO"]);
      for (const room of rooms) await client.publish(`${prefix}room:${room}`, "x");
      const classicReceived = await relayed(
        "cluster_stats_messages_publish_received",
        classicBefore,
        300 * (cluster.ports.length - 1),
      );
      const state = await cluster.state();
      for (const master of masters) {
        const replica = state.find((n) => n.masterId === master.id)!;
        const own = owners.get(master.port)!;
        expect(spublishCalls.get(master.port)).toBe(own);
        expect(shardReceived.get(replica.port)).toBe(own); // the replica gets its master's shard only
        expect(shardReceived.get(master.port)).toBe(0);
      }
      // Every node but the one the client sent each PUBLISH to receives it: ≈ 5/6 of 300 on average.
      for (const port of cluster.ports) expect(classicReceived.get(port)).toBeGreaterThanOrEqual(300 - owners.size * 120);
      expect(total(classicReceived)).toBe(300 * (cluster.ports.length - 1));
      expect(total(shardReceived)).toBe(300);
    } finally {
      client.disconnect();
    }
  });

  it("each instance subscribes only to the rooms it has subscribers in, on the shard that owns each", async () => {
    const a = await startFanout("only-a");
    const b = await startFanout("only-b");
    collect(a);
    collect(b);
    const roomsA = Array.from({ length: 30 }, (_, i) => `only-${roomId(i)}`);
    const roomsB = Array.from({ length: 30 }, (_, i) => `only-${roomId(100 + i)}`);
    await Promise.all([...roomsA.map((r) => a.subscribe(r)), ...roomsB.map((r) => b.subscribe(r))]);
    const bySubscriber = await ssubCounts();
    // Each instance's subscriber connections hold its own rooms plus one probe channel per master.
    expect(sum(bySubscriber, "only-a")).toBe(roomsA.length + 3);
    expect(sum(bySubscriber, "only-b")).toBe(roomsB.length + 3);
    for (const room of [...roomsA, ...roomsB]) {
      const channel = `${prefix}room:${room}`;
      const owner = await cluster.ownerOf(calculateSlot(channel));
      const reply = await cluster.cli(owner, "PUBSUB", "SHARDNUMSUB", channel);
      expect(reply.split("\n")[1]).toBe("1");
    }
    await Promise.all(roomsA.map((r) => a.unsubscribe(r)));
    expect(sum(await ssubCounts(), "only-a")).toBe(3);
  });

  it("payloads published while a master fails over are kept, then published to its promoted replica", async () => {
    let publishFailures = 0;
    const nodes = cluster.ports.slice(0, 2).map((port) => ({ host: "127.0.0.1", port }));
    const a = new ShardedRedisFanout({
      nodes,
      password: PASSWORD,
      prefix,
      instanceName: "failover-a",
      logger,
      onPublishFailure: () => publishFailures++,
    });
    fanouts.push(a);
    await a.start();
    collect(a);
    const b = await startFanout("failover-b");
    const onB = collect(b);
    const masters = await cluster.masters();
    const victim = masters[0]!;
    const replica = (await cluster.state()).find((n) => n.masterId === victim.id)!;
    const room = Array.from({ length: 100 }, (_, i) => `fo-${roomId(i)}`).find((r) =>
      victim.slots.some(([f, t]) => slotOf(r) >= f && slotOf(r) <= t),
    )!;
    // An observer subscribed on the replica itself (sharded pub/sub is served by a shard's
    // replicas too): its subscription survives the promotion, so it sees what A publishes after.
    const observer = new Redis({ host: "127.0.0.1", port: replica.port, password: PASSWORD, readOnly: true });
    const seen: string[] = [];
    observer.on("smessage", (_channel: string, message: string) => seen.push(message));
    try {
      await observer.ssubscribe(`${prefix}room:${room}`);
      await b.subscribe(room);
      a.publish(room, Buffer.from("M1 before"));
      await until("M1 on B and on the observer", () => onB.arrived.length === 1 && seen.length === 1).catch(
        (error: Error) => {
          throw new Error(`${error.message}: B ${JSON.stringify(onB.arrived)}, observer ${JSON.stringify(seen)}`);
        },
      );
      await cluster.kill(victim.port);
      await until("A sees the shard down", async () => a.check(1000).then(() => false, () => true));
      a.publish(room, Buffer.from("Kuser-a"), { keep: true });
      a.publish(room, Buffer.from("M2 two"));
      a.publish(room, Buffer.from("Kuser-b"), { keep: true });
      a.publish(room, Buffer.from("M3 three")); // stands in for M2 (gap detection reads it)
      await cluster.waitHealthy(60_000);
      await until("the kept payloads on the promoted replica", () => seen.includes("M3 three"), 30_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}; the observer saw ${JSON.stringify(seen)}; ${publishFailures} failed publishes`);
        },
      );
      expect(publishFailures).toBeGreaterThan(0);
      // Each kick kept and published once (kicks of different users may overtake each other),
      // then the room's newest message; M2 may have gone through before the failover completed.
      const after = seen.slice(1).filter((m) => m !== "M2 two");
      expect(seen[0]).toBe("M1 before");
      expect([...after].sort()).toEqual(["Kuser-a", "Kuser-b", "M3 three"]);
      expect(after.at(-1)).toBe("M3 three");
      // B's subscription moved to the promoted replica and B was told to re-read PostgreSQL.
      await until("B resynced after the failover", () => onB.resyncs() >= 1, 60_000);
      await expect(b.check(5000)).resolves.toBeUndefined();
      expect(await cluster.ownerOf(slotOf(room))).toBe(replica.port);
      a.publish(room, Buffer.from("M4 after"));
      await until("M4 on B", () => onB.arrived.at(-1) === `${room} M4 after`);
    } finally {
      observer.disconnect();
    }
  });
});

function roomId(i: number): string {
  // Room ids are UUIDs in the service; any distinct strings hash the same way.
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
}

function slotOf(room: string): number {
  return calculateSlot(`${prefix}room:${room}`);
}

/** ssub= of every fan-out subscriber connection on every live node, by connection name. */
async function ssubCounts(): Promise<Array<{ name: string; ssub: number }>> {
  const out: Array<{ name: string; ssub: number }> = [];
  for (const master of await cluster.masters()) {
    const list = await cluster.cli(master.port, "CLIENT", "LIST");
    for (const line of list.split("\n")) {
      const name = / name=(\S*)/.exec(line)?.[1] ?? "";
      const ssub = Number(/ ssub=(\d+)/.exec(line)?.[1] ?? 0);
      if (name.includes("chatapi-fanout:")) out.push({ name, ssub });
    }
  }
  return out;
}

function sum(counts: Array<{ name: string; ssub: number }>, instance: string): number {
  return counts.filter((c) => c.name.endsWith(`chatapi-fanout:${instance}`)).reduce((n, c) => n + c.ssub, 0);
}
