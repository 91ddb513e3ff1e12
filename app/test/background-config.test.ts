// Worker and backup settings: defaults, each bad value named, S3 credentials from _FILE.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/env.js";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("worker and backup settings", () => {
  it("have defaults", () => {
    expect(loadConfig({})).toMatchObject({
      METRICS_PORT: 9000,
      WORKER_CONCURRENCY: 4,
      WORKER_PREFETCH: 20,
      WORKER_MAX_ATTEMPTS: 5,
      WORKER_RETRY_BASE_SECONDS: 10,
      WORKER_SHUTDOWN_TIMEOUT_SECONDS: 20,
      NOTIFICATION_BATCH_SECONDS: 60,
      OUTBOX_POLL_INTERVAL_MS: 250,
      BACKUP_DIR: "/backups",
      BACKUP_RETENTION_DAYS: 30,
      BACKUP_FORMAT: "plain-gz",
      BACKUP_S3_PREFIX: "",
      BACKUP_S3_REGION: "us-east-1",
      BACKUP_S3_FORCE_PATH_STYLE: false,
    });
    const config = loadConfig({});
    expect(config.BACKUP_SCHEDULE).toBeUndefined();
    expect(config.BACKUP_S3_BUCKET).toBeUndefined();
    expect(config.BACKUP_PUSHGATEWAY_URL).toBeUndefined();
  });

  it("name every bad value", () => {
    const found = problems({
      WORKER_CONCURRENCY: "0",
      WORKER_PREFETCH: "lots",
      BACKUP_FORMAT: "zip",
      BACKUP_SCHEDULE: "at night",
      BACKUP_RETENTION_DAYS: "0",
      BACKUP_S3_BUCKET: "Bad_Bucket",
      BACKUP_S3_ENDPOINT: "s3.example.com",
      BACKUP_S3_FORCE_PATH_STYLE: "maybe",
      BACKUP_PUSHGATEWAY_URL: "pushgateway:9091",
    });
    const names = found.map((p) => p.split(":")[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        "WORKER_CONCURRENCY",
        "WORKER_PREFETCH",
        "BACKUP_FORMAT",
        "BACKUP_SCHEDULE",
        "BACKUP_RETENTION_DAYS",
        "BACKUP_S3_BUCKET",
        "BACKUP_S3_ENDPOINT",
        "BACKUP_S3_FORCE_PATH_STYLE",
        "BACKUP_PUSHGATEWAY_URL",
      ]),
    );
    expect(found.find((p) => p.startsWith("BACKUP_SCHEDULE"))).toContain("cron expression");
  });

  it("need prefetch ≥ concurrency, both S3 keys or neither, and a bucket for other S3 settings", () => {
    expect(problems({ WORKER_CONCURRENCY: "8", WORKER_PREFETCH: "4" })[0]).toMatch(
      /^WORKER_PREFETCH: must be at least WORKER_CONCURRENCY \(8\)/,
    );
    expect(problems({ BACKUP_S3_BUCKET: "bkt", BACKUP_S3_ACCESS_KEY_ID: "AKIA" })[0]).toMatch(
      /^BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY: set both/,
    );
    expect(problems({ BACKUP_S3_ENDPOINT: "http://minio:9000" })[0]).toMatch(/^BACKUP_S3_BUCKET: required/);
  });

  it("read S3 credentials from _FILE and never echo them", () => {
    const dir = mkdtempSync(join(tmpdir(), "chatapi-s3-config-"));
    writeFileSync(join(dir, "id"), "AKIAEXAMPLE\n");
    writeFileSync(join(dir, "secret"), "s3cr3t-value\n");
    const config = loadConfig({
      BACKUP_S3_BUCKET: "chatapi-backups",
      BACKUP_S3_PREFIX: "/prod/db/",
      BACKUP_S3_ACCESS_KEY_ID_FILE: join(dir, "id"),
      BACKUP_S3_SECRET_ACCESS_KEY_FILE: join(dir, "secret"),
      BACKUP_SCHEDULE: "0 2 * * *",
    });
    expect(config).toMatchObject({
      BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
      BACKUP_S3_SECRET_ACCESS_KEY: "s3cr3t-value",
      BACKUP_S3_PREFIX: "prod/db/",
      BACKUP_SCHEDULE: "0 2 * * *",
    });
    const both = problems({
      BACKUP_S3_SECRET_ACCESS_KEY: "s3cr3t-value",
      BACKUP_S3_SECRET_ACCESS_KEY_FILE: join(dir, "secret"),
    });
    expect(both.join("\n")).not.toContain("s3cr3t-value");
  });
});
