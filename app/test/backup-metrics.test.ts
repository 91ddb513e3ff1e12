// What a backup run tells Prometheus, and what the scheduler serves: the newest verified backup
// on disk (read when scraped), never "1970" for a backup that never happened.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BackupSchedulerMetrics, outcomeSamples } from "../src/backup/backup-metrics.js";
import { sampleValue } from "./support/metrics-text.js";

const dir = mkdtempSync(join(tmpdir(), "chatapi-backup-metrics-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const endedAt = new Date("2026-12-06T02:03:04Z");
const unix = (iso: string) => Date.parse(iso) / 1000;

describe("outcomeSamples", () => {
  it("a good run sets the success time (when the backup began, to the millisecond), its size and duration", () => {
    expect(
      outcomeSamples({
        kind: "done",
        file: "/backups/chatapi_backup_20261206_020000.sql.gz",
        takenAt: new Date("2026-12-06T02:00:00.250Z"),
        bytes: 1234,
        durationMs: 2500,
        problems: [],
        endedAt,
      }),
    ).toEqual({
      chatapi_backup_last_success_timestamp_seconds: unix("2026-12-06T02:00:00.250Z"),
      chatapi_backup_last_size_bytes: 1234,
      chatapi_backup_last_duration_seconds: 2.5,
    });
  });

  it("a backup written but not uploaded is a success and a failure (ended after it was taken)", () => {
    const samples = outcomeSamples({
      kind: "done",
      file: "/backups/chatapi_backup_20261206_020000.dump",
      takenAt: new Date("2026-12-06T02:00:00.400Z"),
      bytes: 1,
      durationMs: 1,
      problems: ["upload to s3://b/ failed: denied"],
      endedAt,
    });
    expect(samples.chatapi_backup_last_failure_timestamp_seconds).toBe(endedAt.getTime() / 1000);
    expect(samples.chatapi_backup_last_failure_timestamp_seconds).toBeGreaterThan(
      samples.chatapi_backup_last_success_timestamp_seconds!,
    );
  });

  it("a run that failed earlier in the second a good backup began is older than that backup", () => {
    // A failed run, then a retry at once (the metric-names test does this): the backup's name
    // says 02:03:04, the failure ended at 02:03:04.600, the backup began at 02:03:04.700.
    const failed = outcomeSamples({ kind: "failed", endedAt: new Date("2026-12-06T02:03:04.600Z") });
    const good = outcomeSamples({
      kind: "done",
      file: "/backups/chatapi_backup_20261206_020304.dump",
      takenAt: new Date("2026-12-06T02:03:04.700Z"),
      bytes: 1,
      durationMs: 300,
      problems: [],
      endedAt: new Date("2026-12-06T02:03:05.000Z"),
    });
    expect(good.chatapi_backup_last_success_timestamp_seconds).toBeGreaterThan(
      failed.chatapi_backup_last_failure_timestamp_seconds!,
    );
  });

  it("a failed run sets only the failure time; a run locked out by another sets nothing", () => {
    expect(outcomeSamples({ kind: "failed", endedAt })).toEqual({
      chatapi_backup_last_failure_timestamp_seconds: endedAt.getTime() / 1000,
    });
    expect(outcomeSamples({ kind: "locked" })).toEqual({});
  });
});

describe("BackupSchedulerMetrics", () => {
  const scrape = async (metrics: BackupSchedulerMetrics) => metrics.registry.metrics();

  it("has no success sample before any backup exists", async () => {
    const text = await scrape(new BackupSchedulerMetrics(dir, { defaultMetrics: false }));
    expect(text).toContain("# TYPE chatapi_backup_last_success_timestamp_seconds gauge");
    expect(sampleValue(text, "chatapi_backup_last_success_timestamp_seconds")).toBeUndefined();
    expect(sampleValue(text, "chatapi_backup_last_failure_timestamp_seconds")).toBeUndefined();
  });

  it("reads the newest backup that has its checksum from the folder when scraped", async () => {
    const metrics = new BackupSchedulerMetrics(dir, { defaultMetrics: false });
    writeFileSync(join(dir, "chatapi_backup_20261201_020000.sql.gz"), "x");
    writeFileSync(join(dir, "chatapi_backup_20261201_020000.sql.gz.sha256"), "x");
    // Newer, but without its checksum: not finished, not counted.
    writeFileSync(join(dir, "chatapi_backup_20261202_020000.sql.gz"), "x");
    writeFileSync(join(dir, "unrelated.txt"), "x");
    expect(sampleValue(await scrape(metrics), "chatapi_backup_last_success_timestamp_seconds")).toBe(
      unix("2026-12-01T02:00:00Z"),
    );
    writeFileSync(join(dir, "chatapi_backup_20261202_020000.sql.gz.sha256"), "x");
    expect(sampleValue(await scrape(metrics), "chatapi_backup_last_success_timestamp_seconds")).toBe(
      unix("2026-12-02T02:00:00Z"),
    );
  });

  it("adds what its own runs recorded", async () => {
    const metrics = new BackupSchedulerMetrics(dir, { defaultMetrics: false });
    metrics.record({ kind: "failed", endedAt });
    metrics.record({
      kind: "done",
      file: join(dir, "chatapi_backup_20261203_020000.sql.gz"),
      takenAt: new Date("2026-12-03T02:00:00Z"),
      bytes: 99,
      durationMs: 1000,
      problems: [],
      endedAt,
    });
    const text = await scrape(metrics);
    expect(sampleValue(text, "chatapi_backup_last_success_timestamp_seconds")).toBe(
      unix("2026-12-03T02:00:00Z"),
    );
    expect(sampleValue(text, "chatapi_backup_last_failure_timestamp_seconds")).toBe(endedAt.getTime() / 1000);
    expect(sampleValue(text, "chatapi_backup_last_size_bytes")).toBe(99);
    expect(sampleValue(text, "chatapi_backup_last_duration_seconds")).toBe(1);
  });
});
