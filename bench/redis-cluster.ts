// npm run bench:redis-cluster: what the sharded fan-out (FANOUT_REDIS_CLUSTER_NODES) changes,
// measured on a private 3-master, 3-replica Redis Cluster of Debian's redis-server on loopback:
// how rooms spread over the shards, what each node carries with SPUBLISH versus classic PUBLISH,
// and a master killed under load between two real API instances. Prints the figures (the tables
// of bench/RESULTS.md, "Redis Cluster (sharded fan-out)"); with --write also puts them there.
// Needs scripts/setup (PostgreSQL, Redis, RabbitMQ) and npm run build. Bounded: a few thousand
// messages, then everything it started stops.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PrivateRedisCluster } from "../toolbox/private-services";
import {
  failoverUnderLoad,
  roomsPerShard,
  shardedEnv,
  trafficPerNode,
  type NodeTraffic,
} from "../toolbox/sharded-measurements";
import { replaceSection } from "./lib/results-section";
import { loadServices } from "./lib/services";
import { startChatApi } from "./systems/chatapi";

const ROOMS = 300;
const PAYLOAD_BYTES = 200;

function trafficTable(title: string, nodes: NodeTraffic[]): string {
  const rows = nodes.map(
    (n) =>
      `| ${n.port} | ${n.role} | ${n.fromClients} | ${n.overBus} | ${n.fromClients + n.overBus} | ${n.inputBytes} |`,
  );
  const total = (pick: (n: NodeTraffic) => number) => nodes.reduce((sum, n) => sum + pick(n), 0);
  return [
    title,
    "",
    "| node | role | from clients | over the cluster bus | messages handled | client bytes in |",
    "|---|---|---:|---:|---:|---:|",
    ...rows,
    `| all | | ${total((n) => n.fromClients)} | ${total((n) => n.overBus)} | ${total((n) => n.fromClients + n.overBus)} | ${total((n) => n.inputBytes)} |`,
  ].join("\n");
}

async function main(): Promise<void> {
  const write = process.argv.includes("--write");
  const lines: string[] = [];
  const out = (line = "") => {
    console.log(line);
    lines.push(line);
  };
  const cluster = await PrivateRedisCluster.start({ password: `bench-${randomUUID()}` });
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    out("## Redis Cluster (sharded fan-out)");
    out();
    out(
      `Measured by \`npm run bench:redis-cluster -- --write\` (bench/redis-cluster.ts) at ${commit}, ${new Date().toISOString()}, on a private Redis Cluster of Debian's redis-server ${redisVersion()} on loopback: 3 masters with a replica each (\`redis-cli --cluster create ... --cluster-replicas 1\`, \`cluster-node-timeout\` 2000 ms, \`cluster-require-full-coverage no\`). The same measurements are asserted by \`app/test/sharded-fanout.integration.test.ts\` and \`app/test/sharded-failover.integration.test.ts\`.`,
    );
    out();
    const prefix = `bench-${randomUUID().slice(0, 8)}:`;
    const channels = Array.from({ length: ROOMS }, () => `${prefix}room:${randomUUID()}`);
    const perShard = await roomsPerShard(cluster, channels);
    const even = ROOMS / perShard.size;
    out(`### Shard spread: ${ROOMS} rooms (random UUIDs) over ${perShard.size} masters`);
    out();
    out(
      "Each room's channel `<prefix>room:<id>` hashes (CRC16) to one of 16384 slots; the master owning the slot carries the room.",
    );
    out();
    out("| master | rooms | vs an even share |\n|---|---:|---:|");
    for (const [port, count] of perShard) {
      out(`| ${port} | ${count} | ${(((count - even) / even) * 100).toFixed(1)} % |`);
    }
    out();
    out(
      "### Per-node traffic: SPUBLISH versus classic PUBLISH\n\nOne message per room, each command sent by an ioredis `Cluster` client; per node the commands it got from clients (`INFO commandstats`), the messages relayed to it over the cluster bus (`CLUSTER INFO` `cluster_stats_messages_publishshard_received` / `..._publish_received`) and the bytes it read from client connections (`INFO stats` `total_net_input_bytes`; a replica's few bytes are the measurement's own INFO commands).",
    );
    out();
    out(
      trafficTable(
        `SPUBLISH, one ${PAYLOAD_BYTES}-byte message per room:`,
        await trafficPerNode(cluster, channels, "spublish", PAYLOAD_BYTES),
      ),
    );
    out();
    out(
      trafficTable(
        `Classic PUBLISH in the same cluster, the same messages:`,
        await trafficPerNode(cluster, channels, "publish", PAYLOAD_BYTES),
      ),
    );
    out();
    // Two `chatapi serve` instances as npm run bench starts them, the fan-out on the cluster.
    const services = loadServices();
    const logDir = mkdtempSync(join(tmpdir(), "chatapi-bench-cluster-"));
    const keyPrefix = `chatapi-bench-${randomUUID().slice(0, 8)}:`;
    const system = await startChatApi({
      adminDatabaseUrl: services.databaseUrl,
      redisUrl: services.redisUrl,
      rabbitmqUrl: services.rabbitmqUrl,
      logDir,
      rooms: 1,
      members: 1,
      env: { ...shardedEnv(cluster), REDIS_KEY_PREFIX: keyPrefix },
    });
    const [a, b] = system.instances.map((i) => ({ url: i.base, log: () => readFileSync(i.logFile, "utf8") }));
    const pair = { a: a!, b: b!, adminKey: system.adminKey, prefix: keyPrefix };
    try {
      const figures = await failoverUnderLoad(pair, cluster, {
        rooms: 12,
        messagesPerSender: 600,
        sendsPerSecond: 50,
        killAfterMs: 3000,
      });
      out("### A master killed under load");
      out();
      out(
        "Two `chatapi serve` instances (`FANOUT_REDIS_CLUSTER_NODES`), 12 rooms; a sender on each instance sends acked messages round-robin over the rooms at 50/s (1200 in all) and a subscriber on each instance follows every room. 3 s in, the master owning the first room's slot is killed (SIGKILL) and its replica promoted. Failover done: every slot served by a live master again; ready: both instances' `/health/ready` 200 again (every shard probed); longest wait: the longest a subscriber went without a message of the killed shard's rooms.",
      );
      out();
      out(
        "| rooms (on the killed shard) | sent | acked | received per subscriber | lost | duplicated | out of order | failover done | both instances ready | longest wait for a message of the killed shard | re-read PostgreSQL |",
      );
      out("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|");
      out(
        `| ${figures.rooms} (${figures.roomsOnKilledShard}) | ${figures.sent} | ${figures.acked} | ${figures.received.join(", ")} | ${figures.lost} | ${figures.duplicated} | ${figures.outOfOrder} | ${(figures.failoverMs / 1000).toFixed(1)} s | ${(figures.readyAgainMs / 1000).toFixed(1)} s | ${(figures.longestGapMs / 1000).toFixed(2)} s | ${figures.resynced.every(Boolean) ? "both instances" : "no"} |`,
      );
    } finally {
      await system.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  } finally {
    await cluster.dispose();
  }
  if (write) {
    const path = join(__dirname, "RESULTS.md");
    replaceSection(path, "redis-cluster", lines.join("\n"));
    console.log(`\nwritten to ${path}`);
  }
}

function redisVersion(): string {
  return /v=(\S+)/.exec(execFileSync("redis-server", ["--version"], { encoding: "utf8" }))?.[1] ?? "?";
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
