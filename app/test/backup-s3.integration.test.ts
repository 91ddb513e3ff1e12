// Backups copied to an S3-compatible store (a private Versity S3 Gateway): upload with the
// checksum, the same retention as on disk (only backups under the prefix, never other objects),
// restore from an s3:// URL, and an unreachable store reported with its own exit code.
import { readdirSync, rmSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupFileName } from "../src/backup/names.js";
import { runCli, seedChat, snapshot } from "./support/backup.js";
import { freePort } from "../../toolbox/processes.js";
import { PrivateS3 } from "../../toolbox/private-services.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";

let s3: PrivateS3;
let source: TestDatabase;
const databases: TestDatabase[] = [];
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-s3-backups-"));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  [s3, source] = await Promise.all([PrivateS3.start(), createTestDatabase()]);
  await seedChat(source.url);
  await s3.createBucket("chatapi-backups");
});

afterAll(async () => {
  await s3?.stop();
  await Promise.all([source?.drop(), ...databases.map((db) => db.drop())]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function keys(bucket: string): Promise<Map<string, number>> {
  const client = s3.client();
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return new Map((listed.Contents ?? []).map((o) => [o.Key!, o.Size ?? -1]));
  } finally {
    client.destroy();
  }
}

async function put(bucket: string, key: string, body: string): Promise<void> {
  const client = s3.client();
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

describe("backups in S3", () => {
  it("uploads the backup and its checksum, and applies retention to the prefix only", async () => {
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);
    const old = backupFileName(daysAgo(45), "plain-gz");
    const recent = backupFileName(daysAgo(2), "custom");
    for (const name of [old, recent]) {
      await put("chatapi-backups", `nightly/${name}`, "x");
      await put("chatapi-backups", `nightly/${name}.sha256`, `${"0".repeat(64)}  ${name}\n`);
    }
    const untouched = ["nightly/readme.txt", `nightly/archive/${old}`, `other/${old}`];
    for (const key of untouched) await put("chatapi-backups", key, "keep");

    const dir = tempDir();
    const result = await runCli(["backup"], {
      DATABASE_URL: source.url,
      BACKUP_DIR: dir,
      BACKUP_RETENTION_DAYS: "30",
      ...s3.env("chatapi-backups", "nightly"),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const [name] = readdirSync(dir).filter((n) => n.endsWith(".sql.gz"));
    const done = result.logs.find((l) => l.msg === "backup complete")!;
    expect(done.uploaded).toBe(`s3://chatapi-backups/nightly/${name}`);
    expect(done.s3_pruned).toEqual([`s3://chatapi-backups/nightly/${old}`]);

    const objects = await keys("chatapi-backups");
    expect(objects.get(`nightly/${name}`)).toBe(statSync(join(dir, name!)).size);
    expect(objects.has(`nightly/${name}.sha256`)).toBe(true);
    expect(objects.has(`nightly/${recent}`)).toBe(true);
    expect(objects.has(`nightly/${recent}.sha256`)).toBe(true);
    expect(objects.has(`nightly/${old}`)).toBe(false);
    expect(objects.has(`nightly/${old}.sha256`)).toBe(false);
    for (const key of untouched) expect(objects.has(key)).toBe(true);
    expect(result.stderr).not.toContain("NodeVersionSupportWarning");
    expect(result.stdout + result.stderr).not.toContain(s3.secretAccessKey);
  });

  it("restores from an s3:// URL into an empty database (checksum verified)", async () => {
    const dir = tempDir();
    const backup = await runCli(["backup"], {
      DATABASE_URL: source.url,
      BACKUP_DIR: dir,
      BACKUP_FORMAT: "custom",
      ...s3.env("chatapi-backups", "restore-test/"),
    });
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    const url = backup.logs.find((l) => l.msg === "backup complete")!.uploaded as string;
    const target = await createTestDatabase({ migrate: false });
    databases.push(target);
    const restoreDir = tempDir(); // BACKUP_DIR of the restoring side: the download lands there, then goes
    const restored = await runCli(["restore", url], {
      DATABASE_URL: target.url,
      BACKUP_DIR: restoreDir,
      ...s3.env("chatapi-backups", ""),
    });
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(restored.logs.find((l) => l.msg === "restore complete")).toMatchObject({ checksum: "verified" });
    expect(await snapshot(target.url)).toEqual(await snapshot(source.url));
    expect(readdirSync(restoreDir)).toEqual([]);

    const missing = await runCli(["restore", "s3://chatapi-backups/restore-test/nope.sql.gz"], {
      DATABASE_URL: target.url,
      ...s3.env("chatapi-backups", ""),
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("s3://chatapi-backups/restore-test/nope.sql.gz does not exist");
  });

  it("keeps the local backup and exits 3 when the store cannot be reached", async () => {
    const dir = tempDir();
    const result = await runCli(["backup"], {
      DATABASE_URL: source.url,
      BACKUP_DIR: dir,
      ...s3.env("chatapi-backups", "nightly"),
      BACKUP_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    });
    expect(result.code).toBe(3);
    const line = result.logs.find((l) => l.msg === "backup written and verified, with problems")!;
    expect(String((line.problems as string[])[0])).toContain(
      "upload to s3://chatapi-backups/nightly/ failed",
    );
    expect(readdirSync(dir).filter((n) => n.endsWith(".sql.gz"))).toHaveLength(1);
  });
});
