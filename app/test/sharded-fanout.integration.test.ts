// The sharded fan-out (SSUBSCRIBE / SPUBLISH) on a real 3-master, 3-replica Redis Cluster of
// Debian's redis-server on loopback: rooms spread over the shards, each node carries only its
// shard's traffic (classic PUBLISH is relayed to every node: measured beside it), each instance
// subscribes only to its own rooms, a dropped subscriber connection makes the hub re-read, and
// payloads published while a master fails over are kept and published once its replica took over.
import calculateSlot from "cluster-key-slot";
import type { Cluster } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShardedRedisFanout, type ShardedRedisFanoutOptions } from "../src/infra/sharded-redis-fanout.js";
import { PrivateRedisCluster } from "../../toolbox/private-services.js";
import { roomIdOf as roomId, roomsPerShard, trafficPerNode } from "../../toolbox/sharded-measurements.js";
import { uniqueSuffix } from "./support/services.js";

const logger = pino({ level: process.env.CHATAPI_TEST_LOG_LEVEL ?? "silent" });
const PASSWORD = `cluster-${uniqueSuffix()}`;
let cluster: PrivateRedisCluster;
const fanouts: ShardedRedisFanout[] = [];
const prefix = `chatapi-test-${uniqueSuffix()}:`;

async function startFanout(
  instanceName: string,
  events: Pick<ShardedRedisFanoutOptions, "onPublishFailure" | "onSubscriptionChange"> = {},
): Promise<ShardedRedisFanout> {
  const nodes = cluster.ports.slice(0, 2).map((port) => ({ host: "127.0.0.1", port }));
  const fanout = new ShardedRedisFanout({
    nodes,
    password: PASSWORD,
    prefix,
    instanceName,
    logger,
    ...events,
  });
  fanouts.push(fanout);
  await fanout.start();
  return fanout;
}

function collect(fanout: ShardedRedisFanout) {
  const arrived: string[] = [];
  /** "interrupted" and "resync", in the order the fan-out reported them. */
  const events: string[] = [];
  fanout.setHandlers({
    onMessage: (roomId, payload) => arrived.push(`${roomId} ${payload.toString()}`),
    onInterrupted: () => events.push("interrupted"),
    onResync: () => events.push("resync"),
  });
  return { arrived, events, resyncs: () => events.filter((e) => e === "resync").length };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
    const perShard = await roomsPerShard(
      cluster,
      rooms300().map((r) => `${prefix}room:${r}`),
    );
    expect(perShard.size).toBe(3);
    for (const count of perShard.values()) {
      expect(count).toBeGreaterThanOrEqual(80);
      expect(count).toBeLessThanOrEqual(120);
    }
  });

  it("with SPUBLISH each node carries only its shard's messages; PUBLISH reaches every node", async () => {
    const channels = rooms300().map((r) => `${prefix}room:${r}`);
    const perShard = await roomsPerShard(cluster, channels);
    const sharded = await trafficPerNode(cluster, channels, "spublish");
    const classic = await trafficPerNode(cluster, channels, "publish");
    const state = await cluster.state();
    for (const [masterPort, own] of perShard) {
      const master = state.find((n) => n.port === masterPort)!;
      const replicaPort = state.find((n) => n.masterId === master.id)!.port;
      const at = (port: number) => sharded.find((n) => n.port === port)!;
      // Each room's message goes to its master, and from there only to that master's replica.
      expect(at(masterPort)).toMatchObject({ fromClients: own, overBus: 0 });
      expect(at(replicaPort)).toMatchObject({ fromClients: 0, overBus: own });
    }
    expect(sum(sharded.map((n) => n.overBus))).toBe(300);
    // Classic PUBLISH: every message relayed over the cluster bus to the 5 other nodes.
    expect(sum(classic.map((n) => n.overBus))).toBe(300 * 5);
    for (const node of classic) expect(node.overBus + node.fromClients).toBe(300);
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
    expect(ssubOf(bySubscriber, "only-a")).toBe(roomsA.length + 3);
    expect(ssubOf(bySubscriber, "only-b")).toBe(roomsB.length + 3);
    for (const room of [...roomsA, ...roomsB]) {
      const channel = `${prefix}room:${room}`;
      const owner = await cluster.ownerOf(calculateSlot(channel));
      const reply = await cluster.cli(owner, "PUBSUB", "SHARDNUMSUB", channel);
      expect(reply.split("\n")[1]).toBe("1");
    }
    await Promise.all(roomsA.map((r) => a.unsubscribe(r)));
    expect(ssubOf(await ssubCounts(), "only-a")).toBe(3);
  });

  it("a subscriber connection dropped by a master: the subscription is down, then restored, and the hub re-reads", async () => {
    const changes: boolean[] = [];
    const b = await startFanout("dropped-b", { onSubscriptionChange: (live) => changes.push(live) });
    const onB = collect(b);
    const a = await startFanout("dropped-a");
    collect(a);
    const room = `dropped-${roomId(1)}`;
    await b.subscribe(room);
    const owner = await cluster.ownerOf(slotOf(room));
    // The master closes B's subscriber connection (as CLIENT KILL TYPE pubsub did to one Redis).
    const list = await cluster.cli(owner, "CLIENT", "LIST");
    const id = list
      .split("\n")
      .find((line) => line.includes("name=ioredis-cluster(ssubscriber):chatapi-fanout:dropped-b "))
      ?.match(/^id=(\d+)/)?.[1];
    expect(id).toBeDefined();
    await cluster.cli(owner, "CLIENT", "KILL", "ID", id!);
    await until("B re-read after its subscription came back", () => onB.resyncs() >= 1, 30_000);
    expect(changes).toEqual([true, false, true]);
    // The hub held live delivery from the drop on (kicks may have been lost), not from the resync.
    expect(onB.events[0]).toBe("interrupted");
    expect(onB.events.at(-1)).toBe("resync");
    await expect(b.check(5000)).resolves.toBeUndefined();
    a.publish(room, Buffer.from("M1 after"));
    await until("M1 on B", () => onB.arrived.includes(`${room} M1 after`));
  });

  it("subscriptions lost without any event: three failed readiness probes make it subscribe everything again and re-read", async () => {
    const b = await startFanout("silent-b");
    const onB = collect(b);
    const a = await startFanout("silent-a");
    collect(a);
    const room = `silent-${roomId(2)}`;
    await b.subscribe(room);
    // Behind the fan-out's back: its client drops every sharded subscription (probes and room).
    const client = (b as unknown as { cluster: Cluster }).cluster;
    const probes = [...(b as unknown as { subscribedProbes: Set<string> }).subscribedProbes];
    for (const channel of [...probes, `${prefix}room:${room}`]) await client.sunsubscribe(channel);
    for (let i = 1; i <= 3; i++) await expect(b.check(500), `probe ${i}`).rejects.toThrow(/did not deliver/);
    expect(onB.events).toEqual(["interrupted"]);
    await until("B restored and re-read", () => onB.resyncs() === 1, 30_000);
    await expect(b.check(5000)).resolves.toBeUndefined();
    a.publish(room, Buffer.from("M1 after the restore"));
    await until("M1 on B", () => onB.arrived.includes(`${room} M1 after the restore`));
  });

  it("payloads published while a master fails over are kept, then published to its promoted replica", async () => {
    let publishFailures = 0;
    const a = await startFanout("failover-a", { onPublishFailure: () => publishFailures++ });
    collect(a);
    const b = await startFanout("failover-b");
    const onB = collect(b);
    const masters = await cluster.masters();
    const victim = masters[0]!;
    const replica = (await cluster.state()).find((n) => n.masterId === victim.id)!;
    const room = Array.from({ length: 100 }, (_, i) => `fo-${roomId(i)}`).find((r) =>
      victim.slots.some(([f, t]) => slotOf(r) >= f && slotOf(r) <= t),
    )!;
    await b.subscribe(room);
    a.publish(room, Buffer.from("M1 before"));
    await until("M1 on B", () => onB.arrived.length === 1);
    const spublishOnReplica = async () =>
      (await cluster.info(replica.port, "INFO", "commandstats")).cmdstat_spublish ?? 0;
    const before = await spublishOnReplica();
    await cluster.kill(victim.port);
    await until("A sees the shard down", async () =>
      a.check(1000).then(
        () => false,
        () => true,
      ),
    );
    a.publish(room, Buffer.from("Kuser-a"), { keep: true });
    a.publish(room, Buffer.from("M2 two"));
    a.publish(room, Buffer.from("Kuser-b"), { keep: true });
    a.publish(room, Buffer.from("M3 three")); // stands in for M2 (gap detection reads it)
    await cluster.waitHealthy(60_000);
    // Failed while the shard was down, then published once its replica took over: nothing is
    // left kept, and the promoted replica was sent (at least) both kicks and the newest message.
    const kept = () => (a as unknown as { unpublished: { size: number } }).unpublished.size;
    await until("every kept payload published", () => publishFailures > 0 && kept() === 0, 30_000);
    expect(await cluster.ownerOf(slotOf(room))).toBe(replica.port);
    expect((await spublishOnReplica()) - before).toBeGreaterThanOrEqual(3);
    // B's subscription moved to the promoted replica and B was told to re-read PostgreSQL.
    await until("B resynced after the failover", () => onB.resyncs() >= 1, 60_000);
    await expect(b.check(5000)).resolves.toBeUndefined();
    a.publish(room, Buffer.from("M4 after"));
    await until("M4 on B", () => onB.arrived.at(-1) === `${room} M4 after`);
  });
});

const rooms300 = () => Array.from({ length: 300 }, (_, i) => roomId(i));

const sum = (values: number[]) => values.reduce((x, y) => x + y, 0);

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

function ssubOf(counts: Array<{ name: string; ssub: number }>, instance: string): number {
  return counts.filter((c) => c.name.endsWith(`chatapi-fanout:${instance}`)).reduce((n, c) => n + c.ssub, 0);
}
