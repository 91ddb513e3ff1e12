// Configuration: defaults, every problem reported at once, _FILE variants, no secret echoed.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/env.js";

const dir = mkdtempSync(join(tmpdir(), "chatapi-config-"));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

function problems(env: Record<string, string>, options = {}): string[] {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("has defaults that make a local run work", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      ENVIRONMENT: "development",
      DEBUG: false,
      DATABASE_URL: "postgresql://localhost:5432/chatapi",
      DATABASE_POOL_SIZE: 10,
      DATABASE_MAX_OVERFLOW: 10,
      REDIS_URL: "redis://localhost:6379/0",
      ACCESS_TOKEN_EXPIRE_MINUTES: 60,
      REFRESH_TOKEN_EXPIRE_DAYS: 30,
      API_V1_STR: "/api/v1",
      BACKEND_CORS_ORIGINS: [],
      PROJECT_NAME: "ChatAPI",
      LOG_LEVEL: "info",
      PORT: 8000,
      METRICS_PORT: 9000,
      secretKeyGenerated: true,
    });
    expect(c.SECRET_KEY.length).toBeGreaterThanOrEqual(32);
  });

  it("reads the guide's production example", () => {
    const c = loadConfig({
      ENVIRONMENT: "production",
      DEBUG: "false",
      DATABASE_URL: "postgresql://user:password@db-host:5432/chatapi",
      DATABASE_POOL_SIZE: "20",
      DATABASE_MAX_OVERFLOW: "30",
      REDIS_URL: "redis://redis-host:6379/0",
      RABBITMQ_URL: "amqp://user:password@rabbitmq-host:5672",
      SECRET_KEY: "a-production-secret-key-of-32-chars!",
      SMTP_PORT: "587",
      EMAILS_FROM_EMAIL: "noreply@yourdomain.com",
      BACKEND_CORS_ORIGINS: '["https://yourdomain.com"]',
      PROJECT_NAME: "ChatAPI Production",
      LOG_LEVEL: "INFO",
    });
    expect(c).toMatchObject({
      isProduction: true,
      DATABASE_POOL_SIZE: 20,
      DATABASE_MAX_OVERFLOW: 30,
      BACKEND_CORS_ORIGINS: ["https://yourdomain.com"],
      LOG_LEVEL: "info",
      secretKeyGenerated: false,
    });
  });

  it("lists every bad variable in one error, sorted, without secret values", () => {
    const secretDb = "postgresql://u:hunter2-db-password@h/db";
    let message = "";
    try {
      loadConfig(
        {
          DATABASE_URL: secretDb.replace("postgresql", "mysql"),
          DATABASE_POOL_SIZE: "many",
          REDIS_URL: "not a url",
          SECRET_KEY: "short-hunter2",
          LOG_LEVEL: "LOUD",
          BACKEND_CORS_ORIGINS: '["https://ok.example", "ftp://bad"]',
          PORT: "70000",
          EMAILS_FROM_EMAIL: "nobody",
          DEBUG: "maybe",
          SSL_KEYFILE: join(dir, "missing.key"),
        },
        { needsSecretKey: true },
      );
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
      expect((error as ConfigError).problems.map((p) => p.split(":")[0])).toEqual([
        "BACKEND_CORS_ORIGINS",
        "DATABASE_POOL_SIZE",
        "DATABASE_URL",
        "DEBUG",
        "EMAILS_FROM_EMAIL",
        "LOG_LEVEL",
        "PORT",
        "REDIS_URL",
        "SECRET_KEY",
        "SSL_KEYFILE",
      ]);
    }
    expect(message).toMatch(/^Invalid configuration \(10 problems\):/);
    expect(message).not.toContain("hunter2");
    expect(message).toContain('DATABASE_POOL_SIZE: must be an integer from 1 to 1000 (got "many")');
  });

  it("reads <NAME>_FILE for secrets (one trailing newline dropped) and rejects both forms at once", () => {
    const c = loadConfig({
      SECRET_KEY_FILE: file("secret_key", "k".repeat(40) + "\n"),
      DATABASE_URL_FILE: file("database_url", "postgresql://app:pw@db:5432/chatapi\n"),
      REDIS_URL_FILE: file("redis_url", "redis://redis:6379/0"),
      RABBITMQ_URL_FILE: file("rabbitmq_url", "amqp://u:p@mq:5672/"),
      SMTP_PASSWORD_FILE: file("smtp_password", "pa ss\n"),
      SENTRY_DSN_FILE: file("sentry_dsn", "https://abc@sentry.example/1\n"),
    });
    expect(c.SECRET_KEY).toBe("k".repeat(40));
    expect(c.DATABASE_URL).toBe("postgresql://app:pw@db:5432/chatapi");
    expect(c.REDIS_URL).toBe("redis://redis:6379/0");
    expect(c.SMTP_PASSWORD).toBe("pa ss");
    expect(c.SENTRY_DSN).toBe("https://abc@sentry.example/1");
    expect(c.secretKeyGenerated).toBe(false);
    expect(problems({ SECRET_KEY: "x".repeat(40), SECRET_KEY_FILE: file("k2", "y".repeat(40)) })).toEqual([
      "SECRET_KEY and SECRET_KEY_FILE: set only one of them",
    ]);
    expect(problems({ REDIS_URL_FILE: join(dir, "nope") })).toEqual([
      `REDIS_URL_FILE: cannot read ${join(dir, "nope")} (ENOENT)`,
    ]);
  });

  it("reads the fan-out's Redis Cluster nodes and password, and names a malformed node", () => {
    const c = loadConfig({
      FANOUT_REDIS_CLUSTER_NODES: "redis-0.redis:6379, 10.0.0.7:7000,[fd00::1]:6380",
      FANOUT_REDIS_CLUSTER_PASSWORD_FILE: file("cluster_password", "cluster-pw\n"),
    });
    expect(c.FANOUT_REDIS_CLUSTER_NODES).toEqual([
      { host: "redis-0.redis", port: 6379 },
      { host: "10.0.0.7", port: 7000 },
      { host: "fd00::1", port: 6380 },
    ]);
    expect(c.FANOUT_REDIS_CLUSTER_PASSWORD).toBe("cluster-pw");
    expect(loadConfig({}).FANOUT_REDIS_CLUSTER_NODES).toBeUndefined();
    const expected = "expected host:port entries separated by commas, such as redis-0:6379,redis-1:6379";
    expect(problems({ FANOUT_REDIS_CLUSTER_NODES: "redis-0:6379,redis-1" })).toEqual([
      `FANOUT_REDIS_CLUSTER_NODES: "redis-1" is not a node; ${expected}`,
    ]);
    expect(problems({ FANOUT_REDIS_CLUSTER_NODES: "redis://redis-0:6379" })).toEqual([
      `FANOUT_REDIS_CLUSTER_NODES: "redis://redis-0:6379" is not a node; ${expected}`,
    ]);
    expect(problems({ FANOUT_REDIS_CLUSTER_NODES: "redis-0:70000" })).toEqual([
      `FANOUT_REDIS_CLUSTER_NODES: "redis-0:70000" is not a node; ${expected}`,
    ]);
    expect(problems({ FANOUT_REDIS_CLUSTER_NODES: "a:1,,b:2" })).toEqual([
      `FANOUT_REDIS_CLUSTER_NODES: "" is not a node; ${expected}`,
    ]);
  });

  it("refuses a hash tag in the key prefix with the sharded fan-out, and a cluster password without nodes", () => {
    expect(problems({ FANOUT_REDIS_CLUSTER_NODES: "r:6379", REDIS_KEY_PREFIX: "{chat}:" })).toEqual([
      'REDIS_KEY_PREFIX: must not contain { or } with FANOUT_REDIS_CLUSTER_NODES (a hash tag would put every room in one slot, on one shard; got "{chat}:")',
    ]);
    expect(problems({ REDIS_KEY_PREFIX: "{chat}:" })).toEqual([]);
    const secret = randomBytes(12).toString("hex"); // made per run: no credential literal
    const found = problems({ FANOUT_REDIS_CLUSTER_PASSWORD: secret });
    expect(found).toEqual(["FANOUT_REDIS_CLUSTER_PASSWORD: set only with FANOUT_REDIS_CLUSTER_NODES"]);
    expect(found.join("")).not.toContain(secret);
  });

  it("requires a real SECRET_KEY in production for commands that sign tokens", () => {
    expect(problems({ ENVIRONMENT: "production" }, { needsSecretKey: true })).toEqual([
      "SECRET_KEY: required when ENVIRONMENT=production (set SECRET_KEY or SECRET_KEY_FILE)",
    ]);
    expect(problems({ ENVIRONMENT: "production" })).toEqual([]);
  });

  it("DEBUG=true means debug logs unless LOG_LEVEL says otherwise", () => {
    expect(loadConfig({ DEBUG: "true" }).LOG_LEVEL).toBe("debug");
    expect(loadConfig({ DEBUG: "true", LOG_LEVEL: "ERROR" }).LOG_LEVEL).toBe("error");
  });

  it("needs both TLS files or neither", () => {
    expect(problems({ SSL_CERTFILE: file("cert.pem", "x") })).toEqual([
      "SSL_KEYFILE and SSL_CERTFILE: set both for TLS, or neither",
    ]);
  });

  it("accepts CORS origins as a JSON array or a comma-separated list", () => {
    expect(
      loadConfig({ BACKEND_CORS_ORIGINS: "https://a.example, http://localhost:3000/" }).BACKEND_CORS_ORIGINS,
    ).toEqual(["https://a.example", "http://localhost:3000"]);
    expect(loadConfig({ BACKEND_CORS_ORIGINS: '["*"]' }).BACKEND_CORS_ORIGINS).toEqual(["*"]);
  });
});
