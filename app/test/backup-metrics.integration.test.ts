// How Prometheus learns about backups, with real processes: a one-shot `chatapi backup` pushes
// its outcome to a real Pushgateway (the Kubernetes CronJob's way), and the scheduler serves the
// newest verified backup on METRICS_PORT (the Docker backup container's way).
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBackupName } from "../src/backup/names.js";
import { runCli, seedChat } from "./support/backup.js";
import { type Daemon, startPushgateway } from "../../toolbox/processes.js";
import { sampleValue } from "./support/metrics-text.js";
import { startAppProcess } from "../../toolbox/processes.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";

let source: TestDatabase;
let gateway: Daemon;
const dir = mkdtempSync(join(tmpdir(), "chatapi-backup-push-"));

beforeAll(async () => {
  [source, gateway] = await Promise.all([createTestDatabase(), startPushgateway()]);
  await seedChat(source.url, 10);
});

afterAll(async () => {
  await gateway?.stop();
  await source?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const takenAt = (name: string) => parseBackupName(name)!.takenAt.getTime() / 1000;
const newestBackup = () =>
  readdirSync(dir)
    .filter((n) => parseBackupName(n))
    .sort()
    .at(-1)!;
const pushed = async () => (await fetch(`${gateway.url}/metrics`)).text();
const job = { job: "chatapi-backup" };

describe("a one-shot backup with BACKUP_PUSHGATEWAY_URL", () => {
  it("pushes the success, then a failed run adds its failure and keeps the success", async () => {
    const good = await runCli(["backup"], {
      DATABASE_URL: source.url,
      BACKUP_DIR: dir,
      BACKUP_PUSHGATEWAY_URL: gateway.url,
    });
    expect(good.code, good.stdout).toBe(0);
    expect(good.logs.map((l) => l.msg)).toContain("backup metrics pushed");
    let text = await pushed();
    // When the backup began, to the millisecond: within the second its name holds.
    const success = sampleValue(text, "chatapi_backup_last_success_timestamp_seconds", job)!;
    expect(Math.floor(success)).toBe(takenAt(newestBackup()));
    expect(sampleValue(text, "chatapi_backup_last_size_bytes", job)).toBeGreaterThan(0);
    expect(sampleValue(text, "chatapi_backup_last_failure_timestamp_seconds", job)).toBeUndefined();

    const before = Date.now() / 1000;
    const missing = new URL(source.url);
    missing.pathname = "/chatapi_no_such_database";
    const bad = await runCli(["backup"], {
      DATABASE_URL: missing.toString(),
      BACKUP_DIR: dir,
      BACKUP_PUSHGATEWAY_URL: gateway.url,
    });
    expect(bad.code).toBe(1);
    text = await pushed();
    const failure = sampleValue(text, "chatapi_backup_last_failure_timestamp_seconds", job);
    expect(failure).toBeGreaterThanOrEqual(Math.floor(before));
    expect(sampleValue(text, "chatapi_backup_last_success_timestamp_seconds", job)).toBe(success);
  });

  it("an unreachable Pushgateway is logged as an error; the backup itself still succeeds", async () => {
    const result = await runCli(["backup"], {
      DATABASE_URL: source.url,
      BACKUP_DIR: dir,
      BACKUP_PUSHGATEWAY_URL: "http://127.0.0.1:9/",
    });
    expect(result.code).toBe(0);
    expect(result.logs.find((l) => l.msg === "pushing the backup metrics failed")).toMatchObject({
      level: "error",
    });
  });
});

describe("chatapi backup --schedule", () => {
  it("serves the newest backup on disk on METRICS_PORT before its first run, and what its runs record", async () => {
    const scheduler = await startAppProcess(
      { DATABASE_URL: source.url, BACKUP_DIR: dir, METRICS_PORT: "0" },
      ["backup", "--schedule", "*/3 * * * * *"],
      { ready: /backup scheduler started/ },
    );
    try {
      const started = JSON.parse(scheduler.output.find((l) => l.includes("backup scheduler started"))!) as {
        metrics_port: number;
      };
      const scrape = async () => (await fetch(`http://127.0.0.1:${started.metrics_port}/metrics`)).text();
      const onDisk = takenAt(newestBackup());
      const first = await scrape();
      expect(sampleValue(first, "chatapi_backup_last_success_timestamp_seconds")).toBeGreaterThanOrEqual(
        onDisk,
      );
      expect(sampleValue(first, "process_start_time_seconds")).toBeGreaterThan(0);
      // After one scheduled run, its size and duration are there too.
      const deadline = Date.now() + 60_000;
      let text = first;
      while (sampleValue(text, "chatapi_backup_last_size_bytes") === undefined && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        text = await scrape();
      }
      expect(sampleValue(text, "chatapi_backup_last_size_bytes")).toBeGreaterThan(0);
      const success = sampleValue(text, "chatapi_backup_last_success_timestamp_seconds")!;
      expect(success).toBeGreaterThanOrEqual(onDisk);
      expect(Math.floor(success)).toBeLessThanOrEqual(takenAt(newestBackup())); // runs go on every 3 s
      expect((await fetch(`http://127.0.0.1:${started.metrics_port}/health/ready`)).status).toBe(200);
    } finally {
      expect(await scheduler.stop("SIGTERM")).toBe(0);
    }
  });
});
