// Configuration from the environment (names from the deployment guide, see API.md), validated
// once at start. Every problem is collected so the operator sees them all in one message, and
// secret values are never echoed back.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Cron } from "croner";
import { z } from "zod";

/** Variables that may carry a secret: each also accepts `<NAME>_FILE` (a path to read it from). */
export const SECRET_VARS = [
  "DATABASE_URL",
  "REDIS_URL",
  "FANOUT_REDIS_CLUSTER_PASSWORD",
  "RABBITMQ_URL",
  "SECRET_KEY",
  "SMTP_PASSWORD",
  "SENTRY_DSN",
  "BACKUP_S3_ACCESS_KEY_ID",
  "BACKUP_S3_SECRET_ACCESS_KEY",
] as const;

const LOG_LEVELS: Record<string, string> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  warn: "warn",
  error: "error",
  critical: "fatal",
  fatal: "fatal",
};

const truthy = new Set(["1", "true", "yes", "on"]);
const falsy = new Set(["0", "false", "no", "off", ""]);

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return fallback;
      const s = v.trim().toLowerCase();
      if (truthy.has(s)) return true;
      if (falsy.has(s)) return false;
      ctx.addIssue({ code: "custom", message: `must be true or false (got "${v}")` });
      return z.NEVER;
    });

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max} (got "${v}")` });
        return z.NEVER;
      }
      return n;
    });

const positiveNumber = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: `must be a number greater than 0 (got "${v}")` });
        return z.NEVER;
      }
      return n;
    });

/** A URL with one of the given schemes; the value is never printed (it may hold a password). */
const secretUrl = (fallback: string, schemes: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v.trim() === "" ? fallback : v.trim();
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: "custom", message: `must be a URL (${schemes.join("|")}://...)` });
        return z.NEVER;
      }
      if (!schemes.includes(url.protocol.slice(0, -1))) {
        ctx.addIssue({ code: "custom", message: `must use the scheme ${schemes.join(" or ")}://` });
        return z.NEVER;
      }
      return value;
    });

const text = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? fallback : v.trim()));

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const email = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    if (!z.email().safeParse(v.trim()).success) {
      ctx.addIssue({ code: "custom", message: `must be an email address (got "${v}")` });
      return z.NEVER;
    }
    return v.trim();
  });

/** `["https://a.example", "https://b.example"]` (as in the guide) or a comma-separated list. */
const corsOrigins = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return [] as string[];
    let list: unknown;
    const raw = v.trim();
    if (raw.startsWith("[")) {
      try {
        list = JSON.parse(raw);
      } catch {
        ctx.addIssue({
          code: "custom",
          message: `must be a JSON array of origins or a comma-separated list`,
        });
        return z.NEVER;
      }
    } else {
      list = raw.split(",").map((s) => s.trim());
    }
    if (!Array.isArray(list)) {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of origins" });
      return z.NEVER;
    }
    const origins: string[] = [];
    for (const item of list) {
      if (item === "*") {
        origins.push("*");
        continue;
      }
      if (typeof item !== "string" || !/^https?:\/\/[^/\s]+$/.test(item.replace(/\/$/, ""))) {
        ctx.addIssue({
          code: "custom",
          message: `"${String(item)}" is not an origin (scheme://host[:port], or "*")`,
        });
        return z.NEVER;
      }
      origins.push(item.replace(/\/$/, ""));
    }
    return origins;
  });

const logLevel = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return "info";
    const level = LOG_LEVELS[v.trim().toLowerCase()];
    if (!level) {
      ctx.addIssue({
        code: "custom",
        message: `must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got "${v}")`,
      });
      return z.NEVER;
    }
    return level;
  });

const apiPrefix = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return "/api/v1";
    const p = v.trim();
    if (!/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/.test(p)) {
      ctx.addIssue({ code: "custom", message: `must be a path like /api/v1 (got "${v}")` });
      return z.NEVER;
    }
    return p;
  });

const readableFile = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    try {
      readFileSync(v.trim());
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `cannot read ${v.trim()} (${(error as NodeJS.ErrnoException).code})`,
      });
      return z.NEVER;
    }
    return v.trim();
  });

const secretKey = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === "") return undefined;
    if (v.length < 32) {
      ctx.addIssue({ code: "custom", message: "must be at least 32 characters long (value not shown)" });
      return z.NEVER;
    }
    return v;
  });

const sentryDsn = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    try {
      const url = new URL(v.trim());
      if (!/^https?:$/.test(url.protocol) || !url.username) throw new Error("not a DSN");
    } catch {
      ctx.addIssue({
        code: "custom",
        message: "must be a Sentry DSN (https://<key>@<host>/<project>; value not shown)",
      });
      return z.NEVER;
    }
    return v.trim();
  });

/** A cron expression (5 fields, or 6 with seconds), checked by the scheduler that runs it. */
const cronSchedule = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    const problem = cronProblem(v.trim());
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    return v.trim();
  });

/** Why a cron expression is unusable, or undefined when it is fine. */
export function cronProblem(expression: string): string | undefined {
  let problem: string;
  try {
    const schedule = new Cron(expression, { paused: true });
    const next = schedule.nextRun();
    schedule.stop();
    if (next) return undefined;
    problem = "it never runs (no date matches it)"; // e.g. February 30th
  } catch (error) {
    problem = (error as Error).message;
  }
  return `must be a cron expression such as "0 2 * * *" (got "${expression}": ${problem})`;
}

const backupFormat = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = v === undefined || v.trim() === "" ? "plain-gz" : v.trim();
    if (value !== "plain-gz" && value !== "custom") {
      ctx.addIssue({ code: "custom", message: `must be plain-gz or custom (got "${v}")` });
      return z.NEVER;
    }
    return value as "plain-gz" | "custom";
  });

const s3Bucket = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v.trim())) {
      ctx.addIssue({
        code: "custom",
        message: `must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens; got "${v}")`,
      });
      return z.NEVER;
    }
    return v.trim();
  });

/** A key prefix inside the bucket: no leading slash, stored with one trailing slash. */
const s3Prefix = z
  .string()
  .optional()
  .transform((v) => {
    const p = (v ?? "").trim().replace(/^\/+/, "").replace(/\/+$/, "");
    return p === "" ? "" : `${p}/`;
  });

const httpUrl = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    try {
      const url = new URL(v.trim());
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
    } catch {
      ctx.addIssue({ code: "custom", message: `must be an http:// or https:// URL (got "${v}")` });
      return z.NEVER;
    }
    return v.trim();
  });

/**
 * A Redis Cluster's nodes as `host:port` entries separated by commas (a few suffice: the rest are
 * discovered). Unset: undefined.
 */
const clusterNodes = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    const nodes: Array<{ host: string; port: number }> = [];
    for (const entry of v.split(",").map((s) => s.trim())) {
      // host:port, or [IPv6]:port
      const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) {
        ctx.addIssue({
          code: "custom",
          message: `"${entry}" is not a node; expected host:port entries separated by commas, such as redis-0:6379,redis-1:6379`,
        });
        return z.NEVER;
      }
      nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ""), port });
    }
    return nodes;
  });

const schema = z.object({
  ENVIRONMENT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v.trim() === "" ? "development" : v.trim();
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `must be a name such as production or development (got "${v}")`,
        });
        return z.NEVER;
      }
      return value;
    }),
  DEBUG: bool(false),
  DATABASE_URL: secretUrl("postgresql://localhost:5432/chatapi", ["postgres", "postgresql"]),
  DATABASE_POOL_SIZE: int(10, 1, 1000),
  DATABASE_MAX_OVERFLOW: int(10, 0, 1000),
  REDIS_URL: secretUrl("redis://localhost:6379/0", ["redis", "rediss"]),
  // Set: the fan-out uses sharded pub/sub on this Redis Cluster (REDIS_URL keeps the rest).
  FANOUT_REDIS_CLUSTER_NODES: clusterNodes,
  FANOUT_REDIS_CLUSTER_PASSWORD: z.string().optional(),
  RABBITMQ_URL: secretUrl("amqp://guest:guest@localhost:5672/", ["amqp", "amqps"]),
  SECRET_KEY: secretKey,
  ACCESS_TOKEN_EXPIRE_MINUTES: positiveNumber(60),
  REFRESH_TOKEN_EXPIRE_DAYS: positiveNumber(30),
  SMTP_HOST: optionalText,
  SMTP_PORT: int(587, 1, 65535),
  SMTP_USER: optionalText,
  SMTP_PASSWORD: z.string().optional(),
  EMAILS_FROM_EMAIL: email,
  API_V1_STR: apiPrefix,
  BACKEND_CORS_ORIGINS: corsOrigins,
  PROJECT_NAME: text("ChatAPI"),
  SENTRY_DSN: sentryDsn,
  LOG_LEVEL: logLevel,
  LOG_FILE: optionalText,
  SSL_KEYFILE: readableFile,
  SSL_CERTFILE: readableFile,
  PORT: int(8000, 0, 65535),
  METRICS_PORT: int(9000, 0, 65535),
  INSTANCE_NAME: text(hostname()),
  REDIS_KEY_PREFIX: text("chatapi:"),
  RATE_LIMIT_PER_MINUTE: int(6000, 1, 10_000_000),
  WS_SEND_RATE_PER_SECOND: int(200, 1, 1_000_000),
  WS_HEARTBEAT_SECONDS: positiveNumber(30),
  WS_MAX_BUFFERED_BYTES: int(1024 * 1024, 1024, 1024 * 1024 * 1024),
  AUTH_FAILURES_PER_MINUTE: int(30, 1, 10_000_000),
  WS_MAX_CONNECTIONS_PER_ADDRESS: int(1000, 1, 10_000_000),
  TRUSTED_PROXY_HOPS: int(1, 0, 10),
  // Worker (RabbitMQ jobs, e-mail notifications).
  WORKER_CONCURRENCY: int(4, 1, 1000),
  WORKER_PREFETCH: int(20, 1, 65535),
  WORKER_MAX_ATTEMPTS: int(5, 1, 100),
  WORKER_RETRY_BASE_SECONDS: positiveNumber(10),
  WORKER_SHUTDOWN_TIMEOUT_SECONDS: positiveNumber(20),
  OUTBOX_POLL_INTERVAL_MS: int(250, 10, 60_000),
  NOTIFICATION_BATCH_SECONDS: positiveNumber(60),
  // Backups.
  BACKUP_DIR: text("/backups"),
  BACKUP_RETENTION_DAYS: positiveNumber(30),
  BACKUP_FORMAT: backupFormat,
  BACKUP_SCHEDULE: cronSchedule,
  BACKUP_S3_BUCKET: s3Bucket,
  BACKUP_S3_PREFIX: s3Prefix,
  BACKUP_S3_ENDPOINT: httpUrl,
  BACKUP_S3_REGION: text("us-east-1"),
  BACKUP_S3_ACCESS_KEY_ID: optionalText,
  BACKUP_S3_SECRET_ACCESS_KEY: z.string().optional(),
  BACKUP_S3_FORCE_PATH_STYLE: bool(false),
  BACKUP_PUSHGATEWAY_URL: httpUrl,
  // The web console at / (local stacks; off by default) and its dev login (never in production).
  WEB_CONSOLE: bool(false),
  WEB_CONSOLE_DEV_LOGIN: bool(false),
});

type Parsed = z.output<typeof schema>;

export interface Config extends Omit<Parsed, "SECRET_KEY"> {
  /** Set when SECRET_KEY(_FILE) is given; otherwise a random per-process key (development only). */
  SECRET_KEY: string;
  secretKeyGenerated: boolean;
  isProduction: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  /** Commands that sign tokens need a real SECRET_KEY in production. */
  needsSecretKey?: boolean;
}

/** Resolves `<NAME>_FILE` variants into plain values; problems are reported, values never. */
function resolveFiles(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string | undefined> {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const name of SECRET_VARS) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === "") continue;
    if (env[name] !== undefined && env[name] !== "") {
      problems.push(`${name} and ${name}_FILE: set only one of them`);
      continue;
    }
    try {
      // One trailing newline is how secret files are usually written; it is not part of the value.
      resolved[name] = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      problems.push(
        `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  return resolved;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const problems: string[] = [];
  const raw = resolveFiles(env, problems);
  const result = schema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? "?");
      problems.push(`${name}: ${issue.message}`);
    }
  }
  const parsed = result.success ? result.data : undefined;
  const isProduction = (parsed?.ENVIRONMENT ?? env.ENVIRONMENT ?? "").toLowerCase() === "production";
  if (parsed) {
    if ((parsed.SSL_KEYFILE === undefined) !== (parsed.SSL_CERTFILE === undefined)) {
      problems.push("SSL_KEYFILE and SSL_CERTFILE: set both for TLS, or neither");
    }
    if (parsed.FANOUT_REDIS_CLUSTER_NODES && /[{}]/.test(parsed.REDIS_KEY_PREFIX)) {
      problems.push(
        `REDIS_KEY_PREFIX: must not contain { or } with FANOUT_REDIS_CLUSTER_NODES (a hash tag would put every room in one slot, on one shard; got "${parsed.REDIS_KEY_PREFIX}")`,
      );
    }
    if (!parsed.FANOUT_REDIS_CLUSTER_NODES && (parsed.FANOUT_REDIS_CLUSTER_PASSWORD ?? "") !== "") {
      problems.push("FANOUT_REDIS_CLUSTER_PASSWORD: set only with FANOUT_REDIS_CLUSTER_NODES");
    }
    if (parsed.WORKER_PREFETCH < parsed.WORKER_CONCURRENCY) {
      problems.push(
        `WORKER_PREFETCH: must be at least WORKER_CONCURRENCY (${parsed.WORKER_CONCURRENCY}), or the extra concurrency never gets a job (got ${parsed.WORKER_PREFETCH})`,
      );
    }
    const hasKeyId = parsed.BACKUP_S3_ACCESS_KEY_ID !== undefined;
    const hasSecret = (parsed.BACKUP_S3_SECRET_ACCESS_KEY ?? "") !== "";
    if (hasKeyId !== hasSecret) {
      problems.push(
        "BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY: set both (or neither, to use the default AWS credential chain)",
      );
    }
    if (parsed.BACKUP_S3_BUCKET === undefined && (parsed.BACKUP_S3_ENDPOINT || hasKeyId)) {
      problems.push("BACKUP_S3_BUCKET: required when other BACKUP_S3_* settings are given");
    }
    if (parsed.WEB_CONSOLE_DEV_LOGIN && isProduction) {
      problems.push(
        "WEB_CONSOLE_DEV_LOGIN: not allowed when ENVIRONMENT=production (it hands out API keys without credentials)",
      );
    }
    if (parsed.WEB_CONSOLE_DEV_LOGIN && !parsed.WEB_CONSOLE) {
      problems.push("WEB_CONSOLE_DEV_LOGIN: needs WEB_CONSOLE=true (the dev login belongs to the console)");
    }
    if (options.needsSecretKey && isProduction && parsed.SECRET_KEY === undefined) {
      problems.push("SECRET_KEY: required when ENVIRONMENT=production (set SECRET_KEY or SECRET_KEY_FILE)");
    }
  }
  if (problems.length > 0 || !parsed) throw new ConfigError(problems.sort());
  const secretKeyGenerated = parsed.SECRET_KEY === undefined;
  // DEBUG=true without an explicit LOG_LEVEL means debug logs.
  const logLevel = parsed.DEBUG && !raw.LOG_LEVEL ? "debug" : parsed.LOG_LEVEL;
  return {
    ...parsed,
    LOG_LEVEL: logLevel,
    SECRET_KEY: parsed.SECRET_KEY ?? randomKey(),
    secretKeyGenerated,
    isProduction,
  };
}

function randomKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}
