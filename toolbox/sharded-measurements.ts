// What the sharded fan-out changes, measured on a private Redis Cluster: how rooms spread over
// the shards, what each node carries with SPUBLISH versus classic PUBLISH, and a master killed
// under load between two real API instances. The app's integration tests assert on these figures;
// bench/redis-cluster.ts prints them for bench/RESULTS.md.
import calculateSlot from "cluster-key-slot";
import { Cluster } from "ioredis";
import { call, type ChatSocket, connect, createTenant } from "./chat-client";
import type { PrivateRedisCluster } from "./private-services";

/** Room ids are UUIDs in the service; these hash like any others. */
export const roomIdOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;

/** How many of the channels each live master owns (by client port). */
export async function roomsPerShard(
  cluster: PrivateRedisCluster,
  channels: string[],
): Promise<Map<number, number>> {
  const masters = await cluster.masters();
  const counts = new Map<number, number>(masters.map((m) => [m.port, 0]));
  for (const channel of channels) {
    const slot = calculateSlot(channel);
    const owner = masters.find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!owner) throw new Error(`no live master owns slot ${slot}`);
    counts.set(owner.port, counts.get(owner.port)! + 1);
  }
  return counts;
}

export interface NodeTraffic {
  port: number;
  role: "master" | "replica";
  /** Messages this node received from clients (INFO commandstats calls of the command). */
  fromClients: number;
  /** Messages relayed to this node over the cluster bus (CLUSTER INFO ..._received). */
  overBus: number;
  /** Bytes this node read (INFO stats total_net_input_bytes: client connections). */
  inputBytes: number;
}

/**
 * One message per channel with SPUBLISH or PUBLISH (`payloadBytes` each), and what every node
 * carried for it: commands from clients and messages relayed over the cluster bus.
 */
export async function trafficPerNode(
  cluster: PrivateRedisCluster,
  channels: string[],
  command: "spublish" | "publish",
  payloadBytes = 200,
): Promise<NodeTraffic[]> {
  const bus = command === "spublish" ? "publishshard" : "publish";
  const busField = `cluster_stats_messages_${bus}_received`;
  const read = async () =>
    Promise.all(
      cluster.ports.map(async (port) => ({
        port,
        calls: (await cluster.info(port, "INFO", "commandstats"))[`cmdstat_${command}`] ?? 0,
        bus: (await cluster.info(port, "CLUSTER", "INFO"))[busField] ?? 0,
        bytes: (await cluster.info(port, "INFO", "stats")).total_net_input_bytes ?? 0,
      })),
    );
  const client = new Cluster([{ host: "127.0.0.1", port: cluster.ports[0]! }], {
    redisOptions: { password: cluster.password },
  });
  try {
    await client.cluster("INFO"); // connected and slot map read before the baseline
    const before = await read();
    const payload = "x".repeat(payloadBytes);
    for (const channel of channels) await client[command](channel, payload);
    // The cluster bus relays asynchronously: read until every node's count stops growing.
    let after = await read();
    for (let stable = 0, i = 0; stable < 3 && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const next = await read();
      stable = next.every((n, j) => n.bus === after[j]!.bus) ? stable + 1 : 0;
      after = next;
    }
    const roles = new Map((await cluster.state()).map((n) => [n.port, n.role]));
    return after.map((n, j) => ({
      port: n.port,
      role: roles.get(n.port) ?? "replica",
      fromClients: n.calls - before[j]!.calls,
      overBus: n.bus - before[j]!.bus,
      inputBytes: n.bytes - before[j]!.bytes,
    }));
  } finally {
    client.disconnect();
  }
}

/** A running `chatapi serve` whose fan-out is sharded pub/sub on the cluster. */
export interface ShardedInstance {
  url: string;
  /** Its log so far. */
  log(): string;
}

/** Two such instances of one deployment: its admin key and REDIS_KEY_PREFIX. */
export interface ShardedPair {
  a: ShardedInstance;
  b: ShardedInstance;
  adminKey: string;
  prefix: string;
}

/** FANOUT_REDIS_CLUSTER_* (and the settings a load of acked sends needs) for such instances. */
export function shardedEnv(cluster: PrivateRedisCluster): Record<string, string> {
  return {
    FANOUT_REDIS_CLUSTER_NODES: cluster.nodeList,
    FANOUT_REDIS_CLUSTER_PASSWORD: cluster.password ?? "",
    RATE_LIMIT_PER_MINUTE: "10000000",
    WS_SEND_RATE_PER_SECOND: "100000",
  };
}

export async function readiness(url: string): Promise<number> {
  return (await call(url, "GET", "/health/ready")).status;
}

export interface FailoverFigures {
  rooms: number;
  /** Rooms whose channel the killed master owned. */
  roomsOnKilledShard: number;
  sent: number;
  acked: number;
  /** Per subscriber socket (one on each instance, following every room): frames received. */
  received: number[];
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Kill → the promoted replica serves every slot (cluster_state ok everywhere). */
  failoverMs: number;
  /** Kill → both instances ready again (/health/ready 200, every shard probed). */
  readyAgainMs: number;
  /** The longest a subscriber waited between two messages of the killed shard's rooms. */
  longestGapMs: number;
  /** Each instance logged that it re-read PostgreSQL after the shard came back. */
  resynced: [boolean, boolean];
  killedPort: number;
}

/**
 * Senders on both instances send acked messages round-robin over `rooms` rooms at a bounded
 * pace; a subscriber on each instance follows every room. While they run, the master owning the
 * first room's channel is killed (SIGKILL) and its replica promoted. Every subscriber must then
 * get every seq of every room exactly once, in order.
 */
export async function failoverUnderLoad(
  pair: ShardedPair,
  cluster: PrivateRedisCluster,
  options: { rooms?: number; messagesPerSender?: number; sendsPerSecond?: number; killAfterMs?: number } = {},
): Promise<FailoverFigures> {
  const roomCount = options.rooms ?? 12;
  const perSender = options.messagesPerSender ?? 600;
  const pace = options.sendsPerSecond ?? 50;
  const { a, b } = pair;
  const tenant = await createTenant(a.url, pair.adminKey, `failover-${Date.now()}`);
  const sender = await tenant.newUser("sender");
  const reader = await tenant.newUser("reader");
  const rooms: string[] = [];
  for (let i = 0; i < roomCount; i++) {
    const room = await call<{ id: string }>(a.url, "POST", "/api/v1/rooms", {
      token: sender.token,
      body: { name: `failover ${i}`, member_ids: [reader.id] },
    });
    rooms.push(room.body.id);
  }
  const channel = (room: string) => `${pair.prefix}room:${room}`;
  const victim = await cluster.ownerOf(calculateSlot(channel(rooms[0]!)));
  const victimSlots = (await cluster.masters()).find((m) => m.port === victim)!.slots;
  const onVictim = rooms.filter((r) =>
    victimSlots.some(([from, to]) => calculateSlot(channel(r)) >= from && calculateSlot(channel(r)) <= to),
  );

  const readers = await Promise.all([a, b].map((p) => connect(p.url, reader.token)));
  for (const socket of readers) {
    for (const room of rooms) {
      await socket.request(
        { type: "subscribe", room_id: room, after_seq: 0 },
        (f) => f.type === "subscribed",
      );
    }
  }
  // When each subscriber got each message of the killed shard's rooms (its interruption).
  const arrivals: number[][] = readers.map((socket) => {
    const times: number[] = [];
    socket.onFrame((frame) => {
      const roomId = (frame as { message?: { room_id: string } }).message?.room_id;
      if (frame.type === "message" && roomId && onVictim.includes(roomId)) times.push(Date.now());
    });
    return times;
  });
  const senders = await Promise.all([a, b].map((p) => connect(p.url, sender.token)));
  let sent = 0;
  let acked = 0;
  const sendLoop = async (socket: ChatSocket, name: string) => {
    const started = Date.now();
    for (let i = 0; i < perSender; i++) {
      const wait = started + (i * 1000) / pace - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = `${name}-${i}`;
      sent++;
      await socket.request(
        { type: "send", room_id: rooms[i % rooms.length], body: `${name} ${i}`, client_msg_id: id },
        (f) => f.type === "ack" && f.client_msg_id === id,
      );
      acked++;
    }
  };
  const loops = Promise.all(senders.map((s, i) => sendLoop(s, i === 0 ? "via-a" : "via-b")));
  await new Promise((r) => setTimeout(r, options.killAfterMs ?? 3000));
  const killedAt = Date.now();
  await cluster.kill(victim);
  const failover = cluster.waitHealthy(120_000).then(() => Date.now() - killedAt);
  const readyAgain = (async () => {
    // Down first (the shard's subscription is lost), then up again.
    const deadline = Date.now() + 120_000;
    let seenDown = false;
    while (Date.now() < deadline) {
      const statuses = await Promise.all([a, b].map((p) => readiness(p.url).catch(() => 0)));
      if (statuses.some((s) => s !== 200)) seenDown = true;
      else if (seenDown) return Date.now() - killedAt;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the instances were not ready again within 120 s of the kill");
  })();
  await loops;
  const perRoom = new Map<string, number>();
  for (let i = 0; i < perSender; i++) {
    const room = rooms[i % rooms.length]!;
    perRoom.set(room, (perRoom.get(room) ?? 0) + 2);
  }
  // Bounded: whatever has not arrived 60 s after the last ack counts as lost.
  const complete = (socket: ChatSocket) =>
    rooms.every((room) => new Set(socket.messages(room).map((m) => m.seq)).size === perRoom.get(room));
  for (let waited = 0; waited < 60_000 && !readers.every(complete); waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
  }
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  for (const socket of readers) {
    for (const room of rooms) {
      const seqs = socket.messages(room).map((m) => m.seq);
      const unique = new Set(seqs);
      duplicated += seqs.length - unique.size;
      for (let seq = 1; seq <= perRoom.get(room)!; seq++) if (!unique.has(seq)) lost++;
      for (let i = 1; i < seqs.length; i++) if (seqs[i]! <= seqs[i - 1]!) outOfOrder++;
    }
  }
  const longestGap = Math.max(
    ...arrivals.map((times) =>
      times.reduce((gap, t, i) => (i === 0 ? 0 : Math.max(gap, t - times[i - 1]!)), 0),
    ),
  );
  const figures: FailoverFigures = {
    rooms: roomCount,
    roomsOnKilledShard: onVictim.length,
    sent,
    acked,
    received: readers.map((r) => r.frames.filter((f) => f.type === "message").length),
    lost,
    duplicated,
    outOfOrder,
    failoverMs: await failover,
    readyAgainMs: await readyAgain,
    longestGapMs: longestGap,
    resynced: [a, b].map((p) => p.log().includes("catching up from PostgreSQL")) as [boolean, boolean],
    killedPort: victim,
  };
  for (const socket of [...readers, ...senders]) socket.close();
  return figures;
}
