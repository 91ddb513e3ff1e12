// PostgreSQL, Redis and RabbitMQ in the stack (when not external): each on the private
// backend network only, data on a volume, running as the image's non-root uid from the start.
import { memoryBytes } from "../../config/quantity";
import { dataStoreHosts } from "../secrets";
import type { VolumePlan, WorkloadPlan } from "../types";
import { type PlanContext, hardened, resourcesFrom, secretFile, tagOf, tmpfs, workload } from "./common";

/**
 * Connections PostgreSQL must accept: every app process may open pool + overflow
 * connections (API at its autoscaling maximum, workers, migration, bootstrap, backup).
 */
export function postgresMaxConnections(ctx: PlanContext): number {
  const s = ctx.settings;
  const perProcess = s.app.databasePoolSize + s.app.databaseMaxOverflow;
  const api = s.api.autoscaling.enabled ? s.api.autoscaling.maxReplicas : s.api.replicas;
  return perProcess * (api + s.worker.replicas + 3) + 10;
}

export function postgresWorkload(ctx: PlanContext): WorkloadPlan {
  const s = ctx.settings;
  const { user, database } = s.postgres;
  return workload(ctx, tagOf(s.images.postgres), {
    role: "postgres",
    kind: "service",
    description: "PostgreSQL",
    image: "postgres",
    command: ["postgres", "-c", `max_connections=${postgresMaxConnections(ctx)}`],
    env: { POSTGRES_USER: user, POSTGRES_DB: database, PGDATA: "/var/lib/postgresql/data/pgdata" },
    files: [secretFile("postgres_password", "POSTGRES_PASSWORD_FILE")],
    ports: [{ name: "postgres", containerPort: 5432, protocol: "tcp" }],
    // Over TCP: the image's init server listens on the socket only, so this turns healthy
    // once initialisation is over.
    health: {
      command: ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", user, "-d", database],
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 6,
      startPeriodSeconds: 30,
    },
    resources: resourcesFrom(s.postgres),
    security: hardened(s.postgres.runAs),
    tmpfs: [tmpfs("/var/run/postgresql", 1), tmpfs("/tmp", 64)],
    mounts: [{ volume: "postgres-data", path: "/var/lib/postgresql/data", readOnly: false }],
    stopGracePeriodSeconds: 60,
  });
}

export function redisWorkload(ctx: PlanContext): WorkloadPlan {
  const s = ctx.settings;
  return workload(ctx, tagOf(s.images.redis), {
    role: "redis",
    kind: "service",
    description: "Redis",
    image: "redis",
    command: ["redis-server", "/run/secrets/redis_conf"],
    files: [secretFile("redis_conf"), secretFile("redis_password")],
    ports: [{ name: "redis", containerPort: 6379, protocol: "tcp" }],
    health: {
      // REDISCLI_AUTH keeps the password out of the process list.
      command: [
        "sh",
        "-c",
        'REDISCLI_AUTH="$(cat /run/secrets/redis_password)" redis-cli -h 127.0.0.1 ping | grep -qx PONG',
      ],
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 5,
      startPeriodSeconds: 10,
    },
    resources: resourcesFrom(s.redis),
    security: hardened(s.redis.runAs),
    tmpfs: [tmpfs("/tmp", 16)],
    mounts: [{ volume: "redis-data", path: "/data", readOnly: false }],
    stopGracePeriodSeconds: 30,
  });
}

export function rabbitmqWorkload(ctx: PlanContext): WorkloadPlan {
  const s = ctx.settings;
  return workload(ctx, tagOf(s.images.rabbitmq), {
    role: "rabbitmq",
    kind: "service",
    description: "RabbitMQ",
    image: "rabbitmq",
    command: ["rabbitmq-server"],
    // The image's conf.d already holds its defaults (listener, console logging); this file adds
    // the user, password and vhost (works on the official image and the offline one alike).
    files: [{ path: "/etc/rabbitmq/conf.d/20-chatapi.conf", source: { secret: "rabbitmq_conf" } }],
    ports: [
      { name: "amqp", containerPort: 5672, protocol: "tcp" },
      { name: "prometheus", containerPort: 15692, protocol: "tcp" },
    ],
    health: {
      // Listeners accept connections (the app is up), not just the Erlang node: `ping` answers earlier.
      command: ["rabbitmq-diagnostics", "-q", "check_port_connectivity"],
      // Each check starts an Erlang VM (~1 s of CPU): every 30 s in production. Locally every
      // 10 s: Docker runs the first check one interval after start (no start_interval before
      // Docker 25), and the whole stack waits for this one to turn healthy.
      intervalSeconds: s.environment === "local" ? 10 : 30,
      timeoutSeconds: 30,
      retries: 5,
      startPeriodSeconds: 60,
    },
    resources: resourcesFrom(s.rabbitmq),
    security: hardened(s.rabbitmq.runAs),
    tmpfs: [tmpfs("/tmp", 64)],
    mounts: [{ volume: "rabbitmq-data", path: "/var/lib/rabbitmq", readOnly: false }],
    metrics: { port: 15692, path: "/metrics" },
    stopGracePeriodSeconds: 60,
  });
}

export function dataStoreWorkloads(ctx: PlanContext): WorkloadPlan[] {
  const s = ctx.settings;
  return [
    ...(s.postgres.mode === "container" ? [postgresWorkload(ctx)] : []),
    ...(s.redis.mode === "container" ? [redisWorkload(ctx)] : []),
    ...(s.rabbitmq.mode === "container" ? [rabbitmqWorkload(ctx)] : []),
  ];
}

export function dataStoreVolumes(ctx: PlanContext): VolumePlan[] {
  const s = ctx.settings;
  const volume = (name: string, section: "postgres" | "redis" | "rabbitmq", purpose: string): VolumePlan => ({
    name,
    resourceName: `${ctx.prefix}-${name}`,
    purpose,
    sizeBytes: memoryBytes(s[section].storageSize),
    ...((s[section].storageClassName ?? s.kubernetes.storageClassName)
      ? { storageClassName: s[section].storageClassName ?? s.kubernetes.storageClassName }
      : {}),
    retain: true,
  });
  return [
    ...(s.postgres.mode === "container"
      ? [volume("postgres-data", "postgres", "PostgreSQL data directory")]
      : []),
    ...(s.redis.mode === "container" ? [volume("redis-data", "redis", "Redis append-only file")] : []),
    ...(s.rabbitmq.mode === "container"
      ? [volume("rabbitmq-data", "rabbitmq", "RabbitMQ node data and Erlang cookie")]
      : []),
  ];
}

export { dataStoreHosts };
