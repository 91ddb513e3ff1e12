// `chatapi backup` and `chatapi restore` as real processes against real PostgreSQL: round trips
// in both formats, checksums, corruption detection, retention, the lock, the scheduler, and the
// refusal to overwrite a database that has data.
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireBackupLock } from "../src/backup/lock.js";
import { backupFileName } from "../src/backup/names.js";
import { runCli, seedChat, snapshot } from "./support/backup.js";
import { startAppProcess } from "../../toolbox/processes.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";

const run = promisify(execFile);
let source: TestDatabase;
const databases: TestDatabase[] = [];
const dirs: string[] = [];

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-backups-"));
  dirs.push(dir);
  return dir;
};
const emptyDatabase = async () => {
  const db = await createTestDatabase({ migrate: false });
  databases.push(db);
  return db;
};
const backups = (dir: string) =>
  readdirSync(dir).filter((n) => /^chatapi_backup_\d{8}_\d{6}\.(sql\.gz|dump)$/.test(n));

beforeAll(async () => {
  source = await createTestDatabase();
  await seedChat(source.url);
});

afterAll(async () => {
  await Promise.all([source?.drop(), ...databases.map((db) => db.drop())]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function backupInto(dir: string, format: "plain-gz" | "custom", extra: Record<string, string> = {}) {
  return runCli(["backup"], { DATABASE_URL: source.url, BACKUP_DIR: dir, BACKUP_FORMAT: format, ...extra });
}

describe("chatapi backup + restore", () => {
  for (const format of ["plain-gz", "custom"] as const) {
    it(`${format}: writes a verified backup with its sha256, and restoring it into an empty database gives identical rows`, async () => {
      const dir = tempDir();
      const result = await backupInto(dir, format);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const [name] = backups(dir);
      expect(name).toMatch(
        format === "custom" ? /^chatapi_backup_\d{8}_\d{6}\.dump$/ : /^chatapi_backup_\d{8}_\d{6}\.sql\.gz$/,
      );
      // The checksum file is in sha256sum's format.
      const check = await run("sha256sum", ["-c", `${name}.sha256`], { cwd: dir });
      expect(check.stdout).toContain(`${name}: OK`);
      const done = result.logs.find((l) => l.msg === "backup complete");
      expect(done).toMatchObject({ file: join(dir, name!), format });
      expect(readdirSync(dir).filter((n) => n.includes("partial"))).toEqual([]);

      const target = await emptyDatabase();
      const restored = await runCli(["restore", join(dir, name!)], { DATABASE_URL: target.url });
      expect(restored.code, restored.stdout + restored.stderr).toBe(0);
      expect(restored.logs.find((l) => l.msg === "restore complete")).toMatchObject({ checksum: "verified" });
      expect(await snapshot(target.url)).toEqual(await snapshot(source.url));
    });
  }

  it("a restored database serves the API (the schema is current)", async () => {
    const dir = tempDir();
    expect((await backupInto(dir, "plain-gz")).code).toBe(0);
    const target = await emptyDatabase();
    expect((await runCli(["restore", join(dir, backups(dir)[0]!)], { DATABASE_URL: target.url })).code).toBe(
      0,
    );
    const app = await startAppProcess({
      DATABASE_URL: target.url,
      REDIS_URL: process.env.CHATAPI_TEST_REDIS_URL!,
      RABBITMQ_URL: process.env.CHATAPI_TEST_RABBITMQ_URL!,
      PORT: "0",
    });
    try {
      expect((await fetch(`${app.url}/health`)).status).toBe(200);
    } finally {
      await app.stop();
    }
  });

  it("refuses a database that has tables (exit 4, nothing changed), and replaces it with --force", async () => {
    const dir = tempDir();
    expect((await backupInto(dir, "custom")).code).toBe(0);
    const file = join(dir, backups(dir)[0]!);
    const target = await createTestDatabase(); // migrated: has tables
    databases.push(target);
    const before = await snapshot(target.url);
    const refused = await runCli(["restore", file], { DATABASE_URL: target.url });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/not empty .*--force/);
    expect(await snapshot(target.url)).toEqual(before);
    const forced = await runCli(["restore", "--force", file], { DATABASE_URL: target.url });
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(await snapshot(target.url)).toEqual(await snapshot(source.url));
  });

  it("detects a corrupted backup (exit 5) before touching the database", async () => {
    const dir = tempDir();
    expect((await backupInto(dir, "plain-gz")).code).toBe(0);
    const good = join(dir, backups(dir)[0]!);
    const target = await emptyDatabase();

    // One flipped byte: the checksum no longer matches.
    const flipped = join(tempDir(), backups(dir)[0]!);
    await copyFile(good, flipped);
    await copyFile(`${good}.sha256`, `${flipped}.sha256`);
    const bytes = readFileSync(flipped);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(flipped, bytes);
    const mismatch = await runCli(["restore", flipped], { DATABASE_URL: target.url });
    expect(mismatch.code).toBe(5);
    expect(mismatch.stderr).toContain("checksum mismatch");

    // Truncated and without a checksum file: refused for the missing checksum; when that is
    // allowed, the archive check catches it.
    const truncated = join(tempDir(), backups(dir)[0]!);
    await copyFile(good, truncated);
    truncateSync(truncated, Math.floor(bytes.length / 2));
    const unverified = await runCli(["restore", truncated], { DATABASE_URL: target.url });
    expect(unverified.code).toBe(5);
    expect(unverified.stderr).toMatch(/no \.sha256 beside .*--allow-missing-checksum/);
    const broken = await runCli(["restore", "--allow-missing-checksum", truncated], {
      DATABASE_URL: target.url,
    });
    expect(broken.code).toBe(5);
    expect(broken.stderr).toMatch(/does not decompress|incomplete/);
    expect(broken.logs.some((l) => String(l.msg).includes("no .sha256"))).toBe(true);

    // The same for a custom-format archive.
    const customDir = tempDir();
    expect((await backupInto(customDir, "custom")).code).toBe(0);
    const dump = join(tempDir(), backups(customDir)[0]!);
    await copyFile(join(customDir, backups(customDir)[0]!), dump);
    truncateSync(dump, 2000);
    const brokenDump = await runCli(["restore", "--allow-missing-checksum", dump], {
      DATABASE_URL: target.url,
    });
    expect(brokenDump.code).toBe(5);

    const verified = await runCli(["restore", "--verify-only", good], { DATABASE_URL: target.url });
    expect(verified.code).toBe(0);
    expect(Object.keys(await snapshot(target.url))).toEqual(["(sequences)"]); // still empty
  });

  it("refuses a planted dump's psql meta-commands (none runs, nothing is restored), even with a valid checksum", async () => {
    const dir = tempDir();
    expect((await backupInto(dir, "plain-gz")).code).toBe(0);
    const sql = gunzipSync(readFileSync(join(dir, backups(dir)[0]!))).toString("utf8");
    expect(sql).toMatch(/^\\restrict [A-Za-z0-9]+$/m); // pg_dump 15.14+ restricts its own dumps
    const marker = join(tempDir(), "meta-command-ran");
    for (const plant of [
      `\\! touch ${marker}\n`, // a line of its own
      `SELECT 1; \\! touch ${marker}\n`, // after a statement on the same line
      `\\unrestrict guessed\n\\! touch ${marker}\n`, // trying to leave restricted mode
      // … with the key pg_dump wrote into the dump itself
      `\\unrestrict ${/^\\restrict ([A-Za-z0-9]+)$/m.exec(sql)![1]}\n\\! touch ${marker}\n`,
    ]) {
      // An attacker who can plant a dump can plant its checksum too.
      const planted = join(tempDir(), "chatapi_backup_20260101_000000.sql.gz");
      const body = sql.replace(/^CREATE TABLE/m, `${plant}CREATE TABLE`);
      writeFileSync(planted, gzipSync(body));
      writeFileSync(
        `${planted}.sha256`,
        `${createHash("sha256").update(readFileSync(planted)).digest("hex")}\n`,
      );
      const target = await emptyDatabase();
      const result = await runCli(["restore", planted], { DATABASE_URL: target.url });
      expect(result.code, plant).toBe(1);
      expect(result.stderr).toContain("contains psql meta-commands");
      expect(existsSync(marker), `${plant} ran`).toBe(false);
      expect(Object.keys(await snapshot(target.url))).toEqual(["(sequences)"]); // nothing restored
    }
  });

  it("retention removes only backups older than the limit (and their checksums), never other files", async () => {
    const dir = tempDir();
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);
    const old = [backupFileName(daysAgo(45), "plain-gz"), backupFileName(daysAgo(31), "custom")];
    const recent = [backupFileName(daysAgo(29), "plain-gz"), backupFileName(daysAgo(1), "custom")];
    for (const name of [...old, ...recent]) {
      writeFileSync(join(dir, name), "x");
      writeFileSync(join(dir, `${name}.sha256`), `${"0".repeat(64)}  ${name}\n`);
    }
    writeFileSync(join(dir, "notes.txt"), "keep me");
    writeFileSync(join(dir, "chatapi_backup_manual.sql.gz"), "keep me too");
    const result = await backupInto(dir, "plain-gz", { BACKUP_RETENTION_DAYS: "30" });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const left = readdirSync(dir);
    for (const name of old) {
      expect(left).not.toContain(name);
      expect(left).not.toContain(`${name}.sha256`);
    }
    for (const name of recent) expect(left).toContain(name);
    expect(left).toContain("notes.txt");
    expect(left).toContain("chatapi_backup_manual.sql.gz");
    expect(backups(dir)).toHaveLength(3); // two recent + the new one
    expect(result.logs.find((l) => l.msg === "backup complete")!.pruned).toEqual(old.sort().reverse());
  });

  it("never runs two at once: a held lock makes the run exit 75 and say why", async () => {
    const dir = tempDir();
    const lock = await acquireBackupLock(source.url, "test");
    try {
      const result = await backupInto(dir, "plain-gz");
      expect(result.code).toBe(75);
      expect(result.stdout).toContain("another backup or restore of this database is running");
      expect(backups(dir)).toEqual([]);
    } finally {
      await lock.release();
    }
  });

  it("--schedule keeps running and backs up at every tick until SIGTERM", async () => {
    const dir = tempDir();
    const scheduler = await startAppProcess(
      { DATABASE_URL: source.url, BACKUP_DIR: dir, BACKUP_FORMAT: "custom", PORT: "0", METRICS_PORT: "0" },
      ["backup", "--schedule", "*/2 * * * * *"],
      { ready: /backup scheduler started/ },
    );
    try {
      const deadline = Date.now() + 30_000;
      while (backups(dir).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(backups(dir).length).toBeGreaterThanOrEqual(2);
      for (const name of backups(dir)) expect(existsSync(join(dir, `${name}.sha256`))).toBe(true);
    } finally {
      expect(await scheduler.stop("SIGTERM")).toBe(0);
    }
    expect(scheduler.output.join("\n")).toContain("next backup scheduled");
  });

  it("reports bad settings and arguments with their names", async () => {
    const bad = await runCli(["backup"], {
      DATABASE_URL: source.url,
      BACKUP_FORMAT: "zip",
      BACKUP_RETENTION_DAYS: "-1",
    });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("BACKUP_FORMAT: must be plain-gz or custom");
    expect(bad.stderr).toContain("BACKUP_RETENTION_DAYS");
    const cron = await runCli(["backup", "--schedule", "every day"], { DATABASE_URL: source.url });
    expect(cron.code).toBe(2);
    expect(cron.stderr).toContain("must be a cron expression");
    const missing = await runCli(["restore"], { DATABASE_URL: source.url });
    expect(missing.code).toBe(2);
    const gone = await runCli(["restore", "/nonexistent/chatapi_backup_20200101_000000.sql.gz"], {
      DATABASE_URL: source.url,
    });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("cannot read /nonexistent/chatapi_backup_20200101_000000.sql.gz (ENOENT)");
  });
});
