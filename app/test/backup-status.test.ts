// The backup container's health verdict and the failure metric of a run made by hand: both read
// the status file a run leaves in BACKUP_DIR, and the health check also whether the folder can be
// written at all (the root-owned volume of issue 26).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BackupSchedulerMetrics } from "../src/backup/backup-metrics.js";
import { backupHealthProblem, writeBackupStatus } from "../src/backup/status.js";
import { sampleValue } from "./support/metrics-text.js";

const dir = mkdtempSync(join(tmpdir(), "chatapi-backup-status-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("backup health and status", () => {
  it("healthy while the folder can be written and no run failed", () => {
    expect(backupHealthProblem(dir)).toBeUndefined();
    writeBackupStatus(dir, { ok: true, code: 0, at: "2026-12-06T02:00:05Z" });
    expect(backupHealthProblem(dir)).toBeUndefined();
  });

  it("names a folder it cannot write, with the process's uid and the error", () => {
    expect(backupHealthProblem(join(dir, "missing"))).toBe(
      `BACKUP_DIR ${join(dir, "missing")} is not writable by uid ${process.getuid!()} (ENOENT)`,
    );
  });

  it("reports the last failed run, with its time, exit code and reason, until a run works", () => {
    writeBackupStatus(dir, {
      ok: false,
      code: 1,
      at: "2026-12-06T02:00:05Z",
      reason: "connect ECONNREFUSED",
    });
    expect(backupHealthProblem(dir)).toBe(
      "the last backup run failed at 2026-12-06T02:00:05Z (exit 1): connect ECONNREFUSED",
    );
    writeBackupStatus(dir, { ok: true, code: 0, at: "2026-12-06T02:10:00Z" });
    expect(backupHealthProblem(dir)).toBeUndefined();
  });

  it("the scheduler's failure metric counts a failed run made by hand", async () => {
    const metrics = new BackupSchedulerMetrics(dir, { defaultMetrics: false });
    writeBackupStatus(dir, { ok: false, code: 1, at: "2026-12-06T03:00:00Z" });
    expect(
      sampleValue(await metrics.registry.metrics(), "chatapi_backup_last_failure_timestamp_seconds"),
    ).toBe(Date.parse("2026-12-06T03:00:00Z") / 1000);
  });
});
