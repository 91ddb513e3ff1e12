// Backup names, retention planning and the libpq environment: pure functions.
import { describe, expect, it } from "vitest";
import { backupFileName, parseBackupName } from "../src/backup/names.js";
import { libpqEnv } from "../src/backup/pg-tools.js";
import { planRetention } from "../src/backup/retention.js";

const day = 86_400_000;
const now = new Date("2026-03-31T12:00:00Z");
const ago = (days: number, format: "plain-gz" | "custom" = "plain-gz") =>
  backupFileName(new Date(now.getTime() - days * day), format);

describe("backup names", () => {
  it("are chatapi_backup_YYYYmmdd_HHMMSS in UTC with the format's extension, and parse back", () => {
    const at = new Date("2026-01-02T03:04:05Z");
    expect(backupFileName(at, "plain-gz")).toBe("chatapi_backup_20260102_030405.sql.gz");
    expect(backupFileName(at, "custom")).toBe("chatapi_backup_20260102_030405.dump");
    expect(parseBackupName("chatapi_backup_20260102_030405.dump")).toEqual({
      name: "chatapi_backup_20260102_030405.dump",
      takenAt: at,
      format: "custom",
    });
  });

  it("reject anything else", () => {
    for (const name of [
      "chatapi_backup_20260102_030405.sql.gz.sha256",
      "chatapi_backup_20261302_030405.sql.gz",
      "chatapi_backup_20260230_000000.sql.gz",
      "chatapi_backup_manual.sql.gz",
      ".chatapi_backup_20260102_030405.sql.gz.partial",
      "notes.txt",
    ]) {
      expect(parseBackupName(name), name).toBeUndefined();
    }
  });
});

describe("retention", () => {
  it("expires backups older than the limit, with nothing else touched", () => {
    const names = [
      ago(40),
      `${ago(40)}.sha256`,
      ago(31, "custom"),
      `${ago(31, "custom")}.sha256`,
      ago(29),
      `${ago(29)}.sha256`,
      ago(1),
      `${ago(1)}.sha256`,
      "notes.txt",
    ];
    const plan = planRetention(names, now, 30);
    expect(plan.expired).toEqual([ago(31, "custom"), ago(40)]);
    expect(plan.newestGood).toBe(ago(1));
    expect(plan.orphanChecksums).toEqual([]);
  });

  it("never expires the newest good backup, however old", () => {
    const names = [ago(90), `${ago(90)}.sha256`, ago(60), `${ago(60)}.sha256`, ago(45)]; // 45: no checksum
    const plan = planRetention(names, now, 30);
    expect(plan.newestGood).toBe(ago(60));
    expect(plan.expired).toEqual([ago(45), ago(90)]);
  });

  it("clears expired checksum files whose backup is gone", () => {
    const plan = planRetention(
      [`${ago(50)}.sha256`, `${ago(2)}.sha256`, ago(1), `${ago(1)}.sha256`],
      now,
      30,
    );
    expect(plan.orphanChecksums).toEqual([`${ago(50)}.sha256`]);
  });
});

describe("libpqEnv", () => {
  it("turns DATABASE_URL into libpq variables (the password never goes on a command line)", () => {
    expect(
      libpqEnv(
        "postgresql://chat%40api:p%2Fss@db.internal:6432/chat_db?sslmode=verify-full&sslrootcert=/run/ca.pem",
      ),
    ).toEqual({
      PGAPPNAME: "chatapi-backup",
      PGCONNECT_TIMEOUT: "10",
      PGHOST: "db.internal",
      PGPORT: "6432",
      PGUSER: "chat@api",
      PGPASSWORD: "p/ss",
      PGDATABASE: "chat_db",
      PGSSLMODE: "verify-full",
      PGSSLROOTCERT: "/run/ca.pem",
    });
    expect(libpqEnv("postgres://u@[::1]/d?ssl=true")).toMatchObject({ PGHOST: "::1", PGSSLMODE: "require" });
    expect(libpqEnv("postgresql:///chatapi?host=/var/run/postgresql")).toMatchObject({
      PGHOST: "/var/run/postgresql",
      PGDATABASE: "chatapi",
    });
  });
});
