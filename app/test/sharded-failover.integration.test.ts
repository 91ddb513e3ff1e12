// Two real API instances whose fan-out is sharded pub/sub on a private 3-master, 3-replica Redis
// Cluster: each subscribes only to the rooms it has subscribers in, and a master killed under
// load (its replica promoted) loses, duplicates and reorders nothing at the clients; the gap
// repair from PostgreSQL covers the failover.
import calculateSlot from "cluster-key-slot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, connect, createTenant } from "../../toolbox/chat-client.js";
import { PrivateRedisCluster } from "../../toolbox/private-services.js";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import {
  failoverUnderLoad,
  readiness,
  shardedEnv,
  type ShardedPair,
} from "../../toolbox/sharded-measurements.js";
import { metricValue } from "./support/jobs.js";
import {
  appEnv,
  createAdminKey,
  createTestDatabase,
  type TestDatabase,
  uniqueSuffix,
} from "./support/services.js";

let cluster: PrivateRedisCluster;
let db: TestDatabase;
let a: AppProcess;
let b: AppProcess;
let pair: ShardedPair;

beforeAll(async () => {
  cluster = await PrivateRedisCluster.start({ password: `cluster-${uniqueSuffix()}` });
  db = await createTestDatabase();
  const env = appEnv(db.url, shardedEnv(cluster));
  [a, b] = await Promise.all([
    startAppProcess({ ...env, INSTANCE_NAME: "shard-a" }),
    startAppProcess({ ...env, INSTANCE_NAME: "shard-b" }),
  ]);
  const log = (p: AppProcess) => () => p.output.join("\n");
  pair = {
    a: { url: a.url, log: log(a) },
    b: { url: b.url, log: log(b) },
    adminKey: await createAdminKey(db.url),
    prefix: env.REDIS_KEY_PREFIX!,
  };
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
  await cluster?.dispose();
});

/** ssub= summed over one instance's subscriber connections on every live master. */
async function shardSubscriptions(instance: string): Promise<number> {
  let total = 0;
  for (const master of await cluster.masters()) {
    for (const line of (await cluster.cli(master.port, "CLIENT", "LIST")).split("\n")) {
      if (!line.includes(` name=ioredis-cluster(ssubscriber):chatapi-fanout:${instance} `)) continue;
      total += Number(/ ssub=(\d+)/.exec(line)?.[1] ?? 0);
    }
  }
  return total;
}

describe("sharded fan-out between two API instances", () => {
  it("each instance subscribes only to the rooms it has subscribers in", async () => {
    expect(pair.a.log()).toContain("fan-out: sharded pub/sub on a Redis Cluster");
    const t = await createTenant(a.url, pair.adminKey, "only-own");
    const user = await t.newUser("member");
    const rooms: string[] = [];
    for (let i = 0; i < 9; i++) {
      const room = await call<{ id: string }>(a.url, "POST", "/api/v1/rooms", {
        token: user.token,
        body: { name: `own ${i}` },
      });
      rooms.push(room.body.id);
    }
    const onlyA = rooms.slice(0, 4);
    const onlyB = rooms.slice(4, 8);
    const onA = await connect(a.url, user.token);
    const onB = await connect(b.url, user.token);
    for (const room of onlyA)
      await onA.request({ type: "subscribe", room_id: room }, (f) => f.type === "subscribed");
    for (const room of onlyB)
      await onB.request({ type: "subscribe", room_id: room }, (f) => f.type === "subscribed");
    // Its rooms plus one probe channel per master, nothing of the other instance's rooms.
    expect(await shardSubscriptions("shard-a")).toBe(onlyA.length + 3);
    expect(await shardSubscriptions("shard-b")).toBe(onlyB.length + 3);
    expect(await metricValue(a.port, "chatapi_fanout_rooms")).toBe(onlyA.length);
    expect(await metricValue(b.port, "chatapi_fanout_rooms")).toBe(onlyB.length);
    for (const [room, subscribers] of [...onlyA, ...onlyB, rooms[8]!].map(
      (r, i) => [r, i < 8 ? 1 : 0] as const,
    )) {
      const channel = `${pair.prefix}room:${room}`;
      const owner = await cluster.ownerOf(calculateSlot(channel));
      expect((await cluster.cli(owner, "PUBSUB", "SHARDNUMSUB", channel)).split("\n")[1]).toBe(
        String(subscribers),
      );
    }
    // A message crosses: sent on B into a room followed only on A.
    await onB.request(
      { type: "send", room_id: onlyA[0], body: "across", client_msg_id: "across-1" },
      (f) => f.type === "ack",
    );
    await onA.waitFor((f) => f.type === "message");
    expect(onA.messages(onlyA[0]!).map((m) => m.body)).toEqual(["across"]);
    onA.close();
    onB.close();
  });

  it("a master killed under load: its replica promoted, nothing lost, duplicated or reordered", async () => {
    const figures = await failoverUnderLoad(pair, cluster, {
      rooms: 12,
      messagesPerSender: 600,
      sendsPerSecond: 50,
      killAfterMs: 3000,
    });
    console.log(`sharded failover figures: ${JSON.stringify(figures)}`);
    expect(figures.roomsOnKilledShard).toBeGreaterThan(0);
    expect(figures.acked).toBe(1200);
    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.outOfOrder).toBe(0);
    expect(figures.received).toEqual([1200, 1200]);
    // Both instances lost the killed shard's subscription and re-read PostgreSQL after it came back.
    expect(figures.resynced).toEqual([true, true]);
    expect(await cluster.ownerOf(0)).toBeGreaterThan(0);
    expect((await cluster.masters()).map((m) => m.port)).not.toContain(figures.killedPort);
    expect(await readiness(a.url)).toBe(200);
    expect(await readiness(b.url)).toBe(200);
  });
});
