// The chat service's processes, all from the one app image (`chatapi <command>`): API,
// workers, the migration and admin bootstrap jobs, and scheduled backups. Secrets reach them
// only as files (/run/secrets/<name>) named by <NAME>_FILE variables.
import { memoryBytes } from "../../config/quantity";
import type { DependencyPlan, FilePlan, HealthCheckPlan, Role, VolumePlan, WorkloadPlan } from "../types";
import { type PlanContext, hardened, resourcesFrom, secretFile, tmpfs, workload } from "./common";
import { fanoutClusterHasPassword, fanoutClusterSeeds } from "./fanout-cluster";

export const APP_USER = "10001:10001";
export const API_PORT = 8000;
export const WORKER_METRICS_PORT = 9000;
/** The backup scheduler (`backup --schedule`) serves its metrics on the app's METRICS_PORT default. */
export const BACKUP_METRICS_PORT = 9000;
export const BACKUP_DIR = "/backups";
const LOG_DIR = "/app/logs";

/** `node -e` check that exits 0 when a local HTTP endpoint answers 2xx (the image has no curl). */
export function httpCheck(port: number, path: string): string[] {
  return [
    "node",
    "-e",
    "fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
    `http://127.0.0.1:${port}${path}`,
  ];
}

function httpHealth(port: number, path: string, startPeriodSeconds: number): HealthCheckPlan {
  return {
    command: httpCheck(port, path),
    http: { path, port },
    intervalSeconds: 10,
    timeoutSeconds: 5,
    retries: 3,
    startPeriodSeconds,
  };
}

/**
 * The web console (the app's WEB_CONSOLE, off by default) and its dev login: on in local stacks,
 * which run on a developer's machine; never in production ones.
 */
export const webConsole = (s: PlanContext["settings"]): boolean => s.environment !== "production";

/** Plain settings every app process reads (names from the guide's environment file). */
function appEnv(ctx: PlanContext): Record<string, string> {
  const s = ctx.settings;
  const env: Record<string, string> = {
    ENVIRONMENT: s.environment === "production" ? "production" : "development",
    DEBUG: String(s.app.debug),
    LOG_LEVEL: s.app.logLevel,
    PROJECT_NAME: s.app.projectName,
    API_V1_STR: s.app.apiPrefix,
    ACCESS_TOKEN_EXPIRE_MINUTES: String(s.app.accessTokenExpireMinutes),
    REFRESH_TOKEN_EXPIRE_DAYS: String(s.app.refreshTokenExpireDays),
    DATABASE_POOL_SIZE: String(s.app.databasePoolSize),
    DATABASE_MAX_OVERFLOW: String(s.app.databaseMaxOverflow),
    BACKEND_CORS_ORIGINS: JSON.stringify(s.app.corsOrigins),
    EMAILS_FROM_EMAIL: s.smtp.from,
  };
  // The web console at / with its dev login: local stacks only (a production stack gets neither).
  if (webConsole(s)) Object.assign(env, { WEB_CONSOLE: "true", WEB_CONSOLE_DEV_LOGIN: "true" });
  if (s.smtp.host) {
    env.SMTP_HOST = s.smtp.host;
    env.SMTP_PORT = String(s.smtp.port);
    if (s.smtp.user) env.SMTP_USER = s.smtp.user;
  }
  return env;
}

/** The app's secrets a process may be given (each also a <NAME>_FILE variable). */
type AppSecret = "database" | "redis" | "redisCluster" | "rabbitmq" | "secretKey" | "smtp" | "sentry";

/**
 * What each command uses, and so all it gets: a process that cannot read a credential cannot
 * leak it. The backup job never sees SECRET_KEY (which signs every access token) nor the broker's
 * password; only the API signs tokens, only the worker sends mail. (The chart's
 * chatapi.appSecretFiles keeps the same lists.)
 */
export const APP_SECRETS: Record<"api" | "worker" | "migrate" | "bootstrap-admin" | "backup", AppSecret[]> = {
  api: ["database", "redis", "redisCluster", "rabbitmq", "secretKey", "sentry"],
  worker: ["database", "redis", "rabbitmq", "smtp", "sentry"],
  migrate: ["database"],
  "bootstrap-admin": ["database"],
  backup: ["database"],
};

function appSecretFiles(ctx: PlanContext, role: keyof typeof APP_SECRETS): FilePlan[] {
  const needs = new Set(APP_SECRETS[role]);
  const files: FilePlan[] = [];
  if (needs.has("database")) files.push(secretFile("database_url", "DATABASE_URL_FILE"));
  if (needs.has("redis")) files.push(secretFile("redis_url", "REDIS_URL_FILE"));
  if (needs.has("redisCluster") && fanoutClusterHasPassword(ctx))
    files.push(secretFile("redis_cluster_password", "FANOUT_REDIS_CLUSTER_PASSWORD_FILE"));
  if (needs.has("rabbitmq")) files.push(secretFile("rabbitmq_url", "RABBITMQ_URL_FILE"));
  if (needs.has("secretKey")) files.push(secretFile("secret_key", "SECRET_KEY_FILE"));
  if (needs.has("smtp") && ctx.provided.has("smtpPassword"))
    files.push(secretFile("smtp_password", "SMTP_PASSWORD_FILE"));
  if (needs.has("sentry") && ctx.provided.has("sentryDsn"))
    files.push(secretFile("sentry_dsn", "SENTRY_DSN_FILE"));
  return files;
}

/** Healthy data stores in the stack (external ones are not waited for). */
function dataStoreDependencies(
  ctx: PlanContext,
  stores: ("postgres" | "redis" | "rabbitmq")[],
): DependencyPlan[] {
  return stores
    .filter((store) => ctx.settings[store].mode === "container")
    .map((role) => ({ role, condition: "healthy" as const }));
}

const completed = (role: Role): DependencyPlan => ({ role, condition: "completed" });

function appWorkload(
  ctx: PlanContext,
  fields: Parameters<typeof workload>[2] & { role: keyof typeof APP_SECRETS },
): WorkloadPlan {
  return workload(ctx, ctx.appVersion, {
    ...fields,
    entrypoint: ["chatapi"],
    init: true,
    env: { ...appEnv(ctx), ...fields.env },
    files: [...appSecretFiles(ctx, fields.role), ...(fields.files ?? [])],
  });
}

export function apiWorkload(ctx: PlanContext): WorkloadPlan {
  const s = ctx.settings;
  const env: Record<string, string> = { PORT: String(API_PORT) };
  // Sharded pub/sub on a Redis Cluster (app/README.md, "Sharded fan-out").
  const clusterNodes = fanoutClusterSeeds(s);
  if (clusterNodes.length > 0) env.FANOUT_REDIS_CLUSTER_NODES = clusterNodes.join(",");
  const mounts = [];
  if (s.app.logFile) {
    // A logs volume per instance (VolumePlan.perInstance): each process rotates its own file.
    env.LOG_FILE = `${LOG_DIR}/chatapi.log`;
    mounts.push({ volume: "logs", path: LOG_DIR, readOnly: false });
  }
  return appWorkload(ctx, {
    role: "api",
    kind: "service",
    description: "API instances (REST + WebSocket)",
    image: "app",
    command: ["serve"],
    replicas: s.api.replicas,
    env,
    ports: [{ name: "http", containerPort: API_PORT, protocol: "tcp" }],
    health: httpHealth(API_PORT, "/health", 20),
    readiness: httpHealth(API_PORT, "/health/ready", 10),
    resources: resourcesFrom(s.api),
    security: hardened(APP_USER),
    tmpfs: [tmpfs("/tmp", 64)],
    mounts,
    dependsOn: [
      ...dataStoreDependencies(ctx, ["postgres", "redis", "rabbitmq"]),
      completed("migrate"),
      completed("bootstrap-admin"),
      // The in-stack cluster is formed (every slot served) before an instance subscribes.
      ...(s.fanoutCluster.mode === "container" ? [completed("redis-cluster-init")] : []),
    ],
    // Longer than the WebSocket drain: clients get close code 1001 and reconnect elsewhere.
    stopGracePeriodSeconds: 45,
    instanceEnv: "INSTANCE_NAME",
    metrics: { port: API_PORT, path: "/metrics" },
  });
}

export function workerWorkload(ctx: PlanContext): WorkloadPlan {
  const s = ctx.settings;
  return appWorkload(ctx, {
    role: "worker",
    kind: "service",
    description: "Background workers (RabbitMQ consumers: e-mail notifications)",
    image: "app",
    command: ["worker"],
    replicas: s.worker.replicas,
    env: { METRICS_PORT: String(WORKER_METRICS_PORT) },
    ports: [{ name: "metrics", containerPort: WORKER_METRICS_PORT, protocol: "tcp" }],
    health: httpHealth(WORKER_METRICS_PORT, "/health", 20),
    readiness: httpHealth(WORKER_METRICS_PORT, "/health/ready", 10),
    resources: resourcesFrom(s.worker),
    security: hardened(APP_USER),
    tmpfs: [tmpfs("/tmp", 64)],
    dependsOn: [...dataStoreDependencies(ctx, ["postgres", "redis", "rabbitmq"]), completed("migrate")],
    stopGracePeriodSeconds: 30,
    instanceEnv: "INSTANCE_NAME",
    metrics: { port: WORKER_METRICS_PORT, path: "/metrics" },
  });
}

/** Job resources: the worker's, a one-shot does not need the API's 4 GiB. */
function jobResources(ctx: PlanContext) {
  return resourcesFrom(ctx.settings.worker);
}

export function migrateWorkload(ctx: PlanContext): WorkloadPlan {
  return appWorkload(ctx, {
    role: "migrate",
    kind: "job",
    description: "Database migration (schema up to date; safe to run twice)",
    image: "app",
    command: ["migrate"],
    resources: jobResources(ctx),
    security: hardened(APP_USER),
    tmpfs: [tmpfs("/tmp", 64)],
    dependsOn: dataStoreDependencies(ctx, ["postgres"]),
    stopGracePeriodSeconds: 30,
  });
}

export function bootstrapAdminWorkload(ctx: PlanContext): WorkloadPlan {
  const { admin } = ctx.settings;
  return appWorkload(ctx, {
    role: "bootstrap-admin",
    kind: "job",
    description: "Admin client bootstrap (idempotent by e-mail; registers the generated API key)",
    image: "app",
    command: [
      "create-client",
      "--name",
      admin.name,
      "--email",
      admin.email,
      "--admin",
      "--api-key-file",
      "/run/secrets/admin_api_key",
      "--id",
      { generated: "admin_client_id" },
      "--json",
    ],
    files: [secretFile("admin_api_key")],
    resources: jobResources(ctx),
    security: hardened(APP_USER),
    tmpfs: [tmpfs("/tmp", 64)],
    dependsOn: [completed("migrate")],
    stopGracePeriodSeconds: 30,
  });
}

export function backupWorkload(ctx: PlanContext): WorkloadPlan {
  const b = ctx.settings.backup;
  const env: Record<string, string> = {
    BACKUP_DIR,
    BACKUP_RETENTION_DAYS: String(b.retentionDays),
    BACKUP_FORMAT: b.format,
    BACKUP_SCHEDULE: b.schedule,
  };
  const files: FilePlan[] = [];
  if (b.s3) {
    env.BACKUP_S3_BUCKET = b.s3.bucket;
    if (b.s3.prefix) env.BACKUP_S3_PREFIX = b.s3.prefix;
    if (b.s3.endpoint) env.BACKUP_S3_ENDPOINT = b.s3.endpoint;
    if (b.s3.region) env.BACKUP_S3_REGION = b.s3.region;
    env.BACKUP_S3_FORCE_PATH_STYLE = String(b.s3.forcePathStyle ?? false);
    if (ctx.provided.has("backupS3AccessKeyId")) {
      files.push(
        secretFile("backup_s3_access_key_id", "BACKUP_S3_ACCESS_KEY_ID_FILE"),
        secretFile("backup_s3_secret_access_key", "BACKUP_S3_SECRET_ACCESS_KEY_FILE"),
      );
    }
  }
  return appWorkload(ctx, {
    role: "backup",
    kind: "scheduled",
    description: `pg_dump backups (${b.schedule}, ${b.retentionDays} days${b.s3 ? ", copied to S3" : ""})`,
    image: "app",
    command: ["backup"],
    schedule: { cron: b.schedule, daemonCommand: ["backup", "--schedule", b.schedule] },
    env,
    files,
    // Docker runs the schedule in this container: healthy while it can write its folder and its
    // last run (scheduled or by hand) did not fail; the check prints why not (app/src/healthcheck.ts).
    health: {
      command: ["node", "/app/dist/healthcheck.js"],
      intervalSeconds: 15,
      timeoutSeconds: 10,
      retries: 1,
      startPeriodSeconds: 10,
    },
    resources: jobResources(ctx),
    security: hardened(APP_USER),
    tmpfs: [tmpfs("/tmp", 256)],
    mounts: [{ volume: "backups", path: BACKUP_DIR, readOnly: false }],
    dependsOn: dataStoreDependencies(ctx, ["postgres"]),
    stopGracePeriodSeconds: 30,
  });
}

export function appVolumes(ctx: PlanContext): VolumePlan[] {
  const s = ctx.settings;
  const volumes: VolumePlan[] = [];
  if (s.backup.enabled) {
    volumes.push({
      name: "backups",
      resourceName: `${ctx.prefix}-backups`,
      purpose: "pg_dump backups",
      sizeBytes: memoryBytes(s.backup.storageSize),
      ...((s.backup.storageClassName ?? s.kubernetes.storageClassName)
        ? { storageClassName: s.backup.storageClassName ?? s.kubernetes.storageClassName }
        : {}),
      retain: true,
      ...(s.backup.hostPath ? { hostPath: s.backup.hostPath } : {}),
    });
  }
  if (s.app.logFile) {
    volumes.push({
      name: "logs",
      resourceName: `${ctx.prefix}-logs`,
      purpose: "LOG_FILE of each API instance",
      sizeBytes: 1024 ** 3,
      retain: false,
      perInstance: true,
    });
  }
  return volumes;
}
