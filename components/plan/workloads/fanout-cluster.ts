// The fan-out's Redis Cluster in the stack (fanoutCluster.mode container): shards × (1 +
// replicasPerShard) Redis nodes behind one name, each with its own small volume for nodes.conf
// (the fan-out stores no data: pub/sub only), and a one-shot job that forms the cluster once.
// The same scripts run on both targets: a node finds its peers by resolving the shared name
// (a Docker network alias, a headless Service), so neither needs fixed addresses.
import type { StackSettings } from "../../config/types";
import { dataStoreHosts, secretPath } from "../secrets";
import type { VolumePlan, WorkloadPlan } from "../types";
import { memoryBytes } from "../../config/quantity";
import { type PlanContext, hardened, resourcesFrom, secretFile, tagOf, tmpfs, workload } from "./common";

export const FANOUT_CLUSTER_PORT = 6379;
/** Redis Cluster's node-to-node bus: the client port + 10000. */
export const FANOUT_CLUSTER_BUS_PORT = 16379;

/** The nodes the API seeds its cluster client with (FANOUT_REDIS_CLUSTER_NODES); none when off. */
export function fanoutClusterSeeds(s: StackSettings): string[] {
  const { mode, nodes } = s.fanoutCluster;
  if (mode === "external") return nodes;
  if (mode === "container") return [`${dataStoreHosts["redis-cluster"]}:${FANOUT_CLUSTER_PORT}`];
  return [];
}

/** The API gets the cluster's password: the in-stack one always has one, an external one may. */
export const fanoutClusterHasPassword = (ctx: PlanContext) =>
  ctx.settings.fanoutCluster.mode === "container" ||
  (ctx.settings.fanoutCluster.mode === "external" && ctx.provided.has("redisClusterPassword"));

export const fanoutClusterNodeCount = (s: StackSettings) =>
  s.fanoutCluster.shards * (1 + s.fanoutCluster.replicasPerShard);

/** maxmemory below the container's limit: Redis refuses writes instead of being OOM-killed. */
export const fanoutClusterMaxMemoryBytes = (s: StackSettings) =>
  Math.floor(memoryBytes(s.fanoutCluster.memory.limit) * 0.75);

// Functions, not constants: ../secrets imports this module (a cycle read at load time).
const auth = () => `export REDISCLI_AUTH="$(cat ${secretPath("redis_cluster_password")})"`;
/** Every node's IPv4 address, from the shared name (not-ready nodes included on Kubernetes). */
const peers = () => `getent ahostsv4 ${dataStoreHosts["redis-cluster"]} | awk '{print $1}' | sort -u`;

/**
 * A node: announces its current address, and once the cluster is formed meets every node the
 * shared name resolves to for a minute after it starts, because a restarted container or pod
 * comes back with a new address and the others' nodes.conf still holds the old one.
 */
export const nodeScript = () =>
  [
    "set -eu",
    auth(),
    `ip="$(hostname -i | awk '{print $1}')"`,
    "(",
    "  for round in 1 2 3 4 5 6 7 8 9 10 11 12; do",
    "    sleep 5",
    "    redis-cli -h 127.0.0.1 cluster info 2>/dev/null | grep -q '^cluster_known_nodes:1\\s*$' && continue",
    `    for peer in $(${peers()}); do`,
    `      [ "$peer" = "$ip" ] || redis-cli -h 127.0.0.1 cluster meet "$peer" ${FANOUT_CLUSTER_PORT} >/dev/null 2>&1 || true`,
    "    done",
    "  done",
    ") &",
    `exec redis-server ${secretPath("redis_cluster_conf")} --cluster-announce-ip "$ip"`,
  ].join("\n");

/**
 * The job: waits for every node, forms the cluster unless a node already serves every slot
 * (a second deploy), then waits until every node says cluster_state:ok. It does not reshard:
 * nodes added to a formed cluster make it fail with a message saying so.
 */
export function formScript(s: StackSettings): string {
  const want = fanoutClusterNodeCount(s);
  return [
    "set -eu",
    auth(),
    `want=${want}`,
    "up=0",
    "for attempt in $(seq 90); do",
    `  ips="$(${peers()})"`,
    "  up=0",
    `  for ip in $ips; do [ "$(redis-cli -h "$ip" ping 2>/dev/null)" = PONG ] && up=$((up + 1)); done`,
    '  [ "$up" -ge "$want" ] && break',
    '  echo "waiting for the cluster\'s nodes: $up of $want answer"',
    "  sleep 2",
    "done",
    '[ "$up" -ge "$want" ] || { echo "only $up of $want Redis Cluster nodes answered within 3 minutes" >&2; exit 1; }',
    "formed=",
    "for ip in $ips; do",
    `  if redis-cli -h "$ip" cluster info | grep -q '^cluster_slots_assigned:16384\\s*$'; then formed=$ip; break; fi`,
    "done",
    'if [ -n "$formed" ]; then',
    '  echo "the cluster is formed already (node $formed serves every slot)"',
    "else",
    `  redis-cli --cluster create $(for ip in $ips; do printf '%s:${FANOUT_CLUSTER_PORT} ' "$ip"; done) --cluster-replicas ${s.fanoutCluster.replicasPerShard} --cluster-yes`,
    "fi",
    "for attempt in $(seq 60); do",
    "  bad=",
    `  for ip in $ips; do redis-cli -h "$ip" cluster info | grep -q '^cluster_state:ok\\s*$' || bad="$bad $ip"; done`,
    '  [ -z "$bad" ] && { echo "Redis Cluster ok: $want nodes, every slot served"; exit 0; }',
    "  sleep 2",
    "done",
    'echo "cluster_state is not ok on:$bad (a node added to a formed cluster is not joined: changing fanoutCluster.shards or replicasPerShard needs redis-cli --cluster add-node and reshard by hand)" >&2',
    "exit 1",
  ].join("\n");
}

const pingHealth = () => ({
  // REDISCLI_AUTH keeps the password out of the process list.
  command: ["sh", "-c", `${auth()}; redis-cli -h 127.0.0.1 ping | grep -qx PONG`],
  intervalSeconds: 10,
  timeoutSeconds: 5,
  retries: 5,
  startPeriodSeconds: 10,
});

export function fanoutClusterWorkloads(ctx: PlanContext): WorkloadPlan[] {
  const s = ctx.settings;
  if (s.fanoutCluster.mode !== "container") return [];
  const version = tagOf(s.images.redis);
  const node = workload(ctx, version, {
    role: "redis-cluster",
    kind: "service",
    description: `Redis Cluster of the fan-out (${s.fanoutCluster.shards} masters × ${1 + s.fanoutCluster.replicasPerShard} nodes)`,
    image: "redis",
    command: ["sh", "-c", nodeScript()],
    replicas: fanoutClusterNodeCount(s),
    files: [secretFile("redis_cluster_conf"), secretFile("redis_cluster_password")],
    ports: [
      { name: "redis", containerPort: FANOUT_CLUSTER_PORT, protocol: "tcp" },
      { name: "cluster-bus", containerPort: FANOUT_CLUSTER_BUS_PORT, protocol: "tcp" },
    ],
    // Ready once it answers: the job that forms the cluster waits for every node.
    health: pingHealth(),
    readiness: pingHealth(),
    resources: resourcesFrom(s.fanoutCluster),
    security: hardened(s.fanoutCluster.runAs),
    tmpfs: [tmpfs("/tmp", 16)],
    mounts: [{ volume: "redis-cluster-data", path: "/data", readOnly: false }],
    stopGracePeriodSeconds: 30,
  });
  const form = workload(ctx, version, {
    role: "redis-cluster-init",
    kind: "job",
    description: "Forms the fan-out's Redis Cluster (once; later runs check every slot is served)",
    image: "redis",
    command: ["sh", "-c", formScript(s)],
    files: [secretFile("redis_cluster_password")],
    resources: resourcesFrom(s.fanoutCluster),
    security: hardened(s.fanoutCluster.runAs),
    tmpfs: [tmpfs("/tmp", 16)],
    dependsOn: [{ role: "redis-cluster", condition: "healthy" }],
    stopGracePeriodSeconds: 10,
  });
  return [node, form];
}

export function fanoutClusterVolumes(ctx: PlanContext): VolumePlan[] {
  const s = ctx.settings;
  if (s.fanoutCluster.mode !== "container") return [];
  const storageClassName = s.fanoutCluster.storageClassName ?? s.kubernetes.storageClassName;
  return [
    {
      name: "redis-cluster-data",
      resourceName: `${ctx.prefix}-redis-cluster-data`,
      purpose: "each Redis Cluster node's nodes.conf (who is in the cluster, which slots it serves)",
      sizeBytes: memoryBytes(s.fanoutCluster.storageSize),
      ...(storageClassName ? { storageClassName } : {}),
      retain: true,
      perInstance: true,
    },
  ];
}
