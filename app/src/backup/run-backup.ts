// One backup run: lock → pg_dump into a temporary file in BACKUP_DIR → verify → sha256 →
// rename into place → prune old local backups → upload to S3 and prune there. A failure before
// the rename leaves no new file behind (the temporary one is removed); failures after it (S3,
// pruning) keep the good local backup and are reported as problems.
import { mkdir, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import type { Config } from "../config/env.js";
import type { Logger } from "../observability/logger.js";
import { dumpDatabase, verifyArchive, writeChecksum } from "./archive.js";
import { acquireBackupLock } from "./lock.js";
import { backupFileName, CHECKSUM_SUFFIX } from "./names.js";
import { libpqEnv, toolMajorVersion } from "./pg-tools.js";
import { planRetention } from "./retention.js";
import { S3BackupStore, type S3Settings } from "./s3.js";

export interface BackupReport {
  file: string;
  /** When the backup began: its name holds this time to the second. */
  takenAt: Date;
  bytes: number;
  sha256: string;
  format: Config["BACKUP_FORMAT"];
  durationMs: number;
  pruned: string[];
  uploaded?: string;
  s3Pruned?: string[];
  /** What went wrong after the backup itself succeeded (upload, pruning). */
  problems: string[];
}

export function s3SettingsFrom(config: Config): S3Settings | undefined {
  if (!config.BACKUP_S3_BUCKET) return undefined;
  return {
    bucket: config.BACKUP_S3_BUCKET,
    prefix: config.BACKUP_S3_PREFIX,
    region: config.BACKUP_S3_REGION,
    endpoint: config.BACKUP_S3_ENDPOINT,
    forcePathStyle: config.BACKUP_S3_FORCE_PATH_STYLE,
    accessKeyId: config.BACKUP_S3_ACCESS_KEY_ID,
    secretAccessKey: config.BACKUP_S3_SECRET_ACCESS_KEY,
  };
}

/** pg_dump refuses a newer server; say so before dumping, with both versions. */
export async function checkDumpCompatible(databaseUrl: string): Promise<{ client: number; server: number }> {
  const client = await toolMajorVersion("pg_dump");
  const db = new pg.Client({ connectionString: databaseUrl, application_name: "chatapi-backup" });
  db.on("error", () => undefined);
  await db.connect();
  try {
    const { rows } = await db.query<{ v: string }>("SHOW server_version_num");
    const server = Math.floor(Number(rows[0]!.v) / 10_000);
    if (server > client) {
      throw new Error(
        `pg_dump ${client} cannot dump a PostgreSQL ${server} server: use an image with postgresql-client ${server} or newer`,
      );
    }
    return { client, server };
  } finally {
    await db.end().catch(() => undefined);
  }
}

export async function runBackup(config: Config, logger: Logger, signal?: AbortSignal): Promise<BackupReport> {
  const started = Date.now();
  const dir = config.BACKUP_DIR;
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`BACKUP_DIR ${dir} cannot be created (${error.code})`);
  });
  const lock = await acquireBackupLock(config.DATABASE_URL, "backup");
  const takenAt = new Date();
  const name = backupFileName(takenAt, config.BACKUP_FORMAT);
  const final = join(dir, name);
  const temporary = join(dir, `.${name}.partial`);
  try {
    const versions = await checkDumpCompatible(config.DATABASE_URL);
    logger.info(
      { file: final, format: config.BACKUP_FORMAT, pg_dump: versions.client, server: versions.server },
      "backup started",
    );
    let sha256: string;
    try {
      await dumpDatabase(temporary, config.BACKUP_FORMAT, libpqEnv(config.DATABASE_URL), signal);
      sha256 = await verifyArchive(temporary, config.BACKUP_FORMAT);
      // The checksum goes first, so a backup under its final name always has one beside it.
      await writeChecksum(final, sha256);
      await rename(temporary, final);
    } catch (error) {
      await rm(temporary, { force: true });
      await rm(final + CHECKSUM_SUFFIX, { force: true });
      throw error;
    }
    const { size } = await stat(final);
    logger.info({ file: final, bytes: size, sha256 }, "backup written and verified");

    const report: BackupReport = {
      file: final,
      takenAt,
      bytes: size,
      sha256,
      format: config.BACKUP_FORMAT,
      durationMs: 0,
      pruned: [],
      problems: [],
    };
    try {
      report.pruned = await pruneLocal(dir, config.BACKUP_RETENTION_DAYS);
      if (report.pruned.length) logger.info({ files: report.pruned }, "old local backups removed");
    } catch (error) {
      report.problems.push(`pruning ${dir} failed: ${(error as Error).message}`);
    }
    const s3 = s3SettingsFrom(config);
    if (s3) await uploadAndPrune(s3, final, sha256, config.BACKUP_RETENTION_DAYS, report, logger);
    report.durationMs = Date.now() - started;
    return report;
  } finally {
    await lock.release();
  }
}

async function uploadAndPrune(
  settings: S3Settings,
  file: string,
  sha256: string,
  retentionDays: number,
  report: BackupReport,
  logger: Logger,
): Promise<void> {
  const store = new S3BackupStore(settings);
  try {
    try {
      report.uploaded = await store.upload(file, file + CHECKSUM_SUFFIX, sha256);
      logger.info({ object: report.uploaded }, "backup uploaded to S3");
    } catch (error) {
      report.problems.push(
        `upload to s3://${settings.bucket}/${settings.prefix} failed: ${(error as Error).message}`,
      );
      return; // not pruning a store that lacks the newest backup
    }
    try {
      const plan = planRetention(await store.list(), new Date(), retentionDays);
      report.s3Pruned = [];
      for (const name of plan.expired) {
        await store.delete(name + CHECKSUM_SUFFIX);
        await store.delete(name);
        report.s3Pruned.push(store.describe(name));
      }
      for (const name of plan.orphanChecksums) await store.delete(name);
      if (report.s3Pruned.length) logger.info({ objects: report.s3Pruned }, "old S3 backups removed");
    } catch (error) {
      report.problems.push(
        `pruning s3://${settings.bucket}/${settings.prefix} failed: ${(error as Error).message}`,
      );
    }
  } finally {
    store.destroy();
  }
}

/** Applies retention to BACKUP_DIR; also clears temporary files a crashed run left (over a day old). */
export async function pruneLocal(dir: string, retentionDays: number): Promise<string[]> {
  const names = await readdir(dir);
  const plan = planRetention(names, new Date(), retentionDays);
  const removed: string[] = [];
  for (const name of plan.expired) {
    // The checksum first: a backup without one is never taken for a good one.
    await unlink(join(dir, name + CHECKSUM_SUFFIX)).catch(ignoreMissing);
    await unlink(join(dir, name)).catch(ignoreMissing);
    removed.push(name);
  }
  for (const name of plan.orphanChecksums) await unlink(join(dir, name)).catch(ignoreMissing);
  for (const name of names.filter((n) => n.startsWith(".chatapi_backup_") && n.endsWith(".partial"))) {
    const { mtimeMs } = await stat(join(dir, name)).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs > 86_400_000) await unlink(join(dir, name)).catch(ignoreMissing);
  }
  return removed;
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}
