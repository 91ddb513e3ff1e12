// Restoring a backup into DATABASE_URL: fetch (S3) → checksum (required unless
// --allow-missing-checksum) → archive check → lock → refuse a database that already has tables
// (unless forced) → one psql transaction (with --force it first drops and recreates the public
// schema, in the same transaction, so a failed restore leaves the database as it was) → migrate
// to the current schema.
//
// A dump is SQL for psql, and psql also runs its own meta-commands (\! runs a shell command,
// \o writes files, \copy reads them): a planted dump would run them in the container. psql is
// put in restricted mode first (\restrict, with a random key the dump cannot know), where any
// meta-command is an error that stops the restore and rolls it back (the dump's own \restrict
// and \unrestrict lines, which pg_dump 15.14+ writes, are taken out).
import { access, constants, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { PassThrough, Readable, Transform } from "node:stream";
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import pg from "pg";
import type { Config } from "../config/env.js";
import { migrateUp } from "../db/migrate.js";
import type { Logger } from "../observability/logger.js";
import { CorruptBackupError, detectFormat, readChecksum, sha256File, verifyArchive } from "./archive.js";
import { acquireBackupLock } from "./lock.js";
import { CHECKSUM_SUFFIX } from "./names.js";
import { libpqEnv, runTool } from "./pg-tools.js";
import { downloadBackup, parseS3Url } from "./s3.js";
import { s3SettingsFrom } from "./run-backup.js";

export class DatabaseNotEmptyError extends Error {
  override name = "DatabaseNotEmptyError";
}

export interface RestoreOptions {
  source: string;
  force: boolean;
  verifyOnly: boolean;
  /** Restore a backup that has no .sha256 beside it (only its structure is checked then). */
  allowMissingChecksum?: boolean;
}

export interface RestoreReport {
  source: string;
  format: string;
  checksum: "verified" | "missing";
  restored: boolean;
  migrationsApplied: string[];
  durationMs: number;
}

export async function runRestore(
  config: Config,
  logger: Logger,
  options: RestoreOptions,
): Promise<RestoreReport> {
  const started = Date.now();
  const s3Source = parseS3Url(options.source);
  let scratch: string | undefined;
  try {
    let path = options.source;
    let checksumPath: string | undefined = options.source + CHECKSUM_SUFFIX;
    if (s3Source) {
      scratch = await mkdtemp(join(await downloadDir(config.BACKUP_DIR), ".chatapi-restore-"));
      const s3 = s3SettingsFrom(config);
      logger.info({ source: options.source }, "downloading the backup from S3");
      ({ path, checksumPath } = await downloadBackup(
        {
          region: config.BACKUP_S3_REGION,
          endpoint: config.BACKUP_S3_ENDPOINT,
          forcePathStyle: config.BACKUP_S3_FORCE_PATH_STYLE,
          accessKeyId: s3?.accessKeyId ?? config.BACKUP_S3_ACCESS_KEY_ID,
          secretAccessKey: s3?.secretAccessKey ?? config.BACKUP_S3_SECRET_ACCESS_KEY,
        },
        s3Source,
        scratch,
      ));
    } else {
      await access(path, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${path} (${error.code})`);
      });
    }

    const expected = checksumPath ? await readChecksum(checksumPath) : undefined;
    if (expected) {
      const actual = await sha256File(path);
      if (actual !== expected) {
        throw new CorruptBackupError(
          `checksum mismatch for ${options.source}: the file's sha256 is ${actual}, its .sha256 file says ${expected}`,
        );
      }
      logger.info({ sha256: actual }, "checksum verified");
    } else if (options.allowMissingChecksum) {
      logger.warn(
        { source: options.source },
        "no .sha256 beside the backup (--allow-missing-checksum): only its structure is checked",
      );
    } else {
      throw new CorruptBackupError(
        `no ${CHECKSUM_SUFFIX} beside ${options.source}: a backup that cannot be verified is not restored (pass --allow-missing-checksum to restore it anyway)`,
      );
    }
    const format = await detectFormat(path);
    if (format !== "plain") await verifyArchive(path, format);
    logger.info({ format }, "backup archive verified");
    const report: RestoreReport = {
      source: options.source,
      format,
      checksum: expected ? "verified" : "missing",
      restored: false,
      migrationsApplied: [],
      durationMs: 0,
    };
    if (options.verifyOnly) {
      report.durationMs = Date.now() - started;
      return report;
    }

    const lock = await acquireBackupLock(config.DATABASE_URL, "restore");
    try {
      const tables = await userTableCount(config.DATABASE_URL);
      if (tables > 0 && !options.force) {
        throw new DatabaseNotEmptyError(
          `the target database is not empty (${tables} table(s)); restore into an empty database, or pass --force to replace its public schema`,
        );
      }
      if (tables > 0) logger.warn({ tables }, "--force: replacing the public schema of a non-empty database");
      await restoreSql(path, format, config.DATABASE_URL, tables > 0);
      report.restored = true;
      logger.info("backup restored; bringing the schema up to date");
      report.migrationsApplied = await migrateUp(config.DATABASE_URL, { info: (m) => logger.info(m) });
    } finally {
      await lock.release();
    }
    report.durationMs = Date.now() - started;
    return report;
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/** Downloads go to BACKUP_DIR when it is writable (it is sized for backups), else to the temp dir. */
async function downloadDir(backupDir: string): Promise<string> {
  try {
    await access(backupDir, constants.W_OK);
    return backupDir;
  } catch {
    return tmpdir();
  }
}

async function userTableCount(databaseUrl: string): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl, application_name: "chatapi-restore" });
  db.on("error", () => undefined);
  await db.connect();
  try {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
    );
    return rows[0]!.n;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Feeds the backup as SQL into one psql transaction that stops at the first error. */
async function restoreSql(
  path: string,
  format: "plain-gz" | "custom" | "plain",
  databaseUrl: string,
  replaceSchema: boolean,
): Promise<void> {
  const pgEnv = libpqEnv(databaseUrl);
  const sql = new PassThrough();
  const psql = runTool("psql", ["--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"], {
    pgEnv,
    stdin: sql,
    stdout: "ignore",
  });
  const feed = async () => {
    sql.write(`\\restrict ${randomBytes(24).toString("hex")}\n`);
    if (replaceSchema) sql.write("DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n");
    let source: Readable;
    let producer: Promise<void> | undefined;
    if (format === "custom") {
      // pg_restore turns the archive into SQL; psql runs it (one transaction for both formats).
      const toSql = runTool("pg_restore", ["--no-owner", "--no-privileges", "--file=-", path], { pgEnv: {} });
      source = toSql.child.stdout!;
      producer = toSql.done;
    } else {
      source = format === "plain-gz" ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
    }
    source.pipe(withoutRestrictLines()).pipe(sql);
    await Promise.all([
      new Promise((resolve, reject) => source.on("end", resolve).on("error", reject)),
      producer,
    ]);
  };
  try {
    await Promise.all([feed(), psql.done]);
  } catch (error) {
    sql.destroy();
    psql.child.kill("SIGTERM");
    const message = (error as Error).message;
    if (message.includes("invalid command \\restrict"))
      throw new Error(
        "this psql cannot refuse meta-commands (\\restrict needs PostgreSQL client 15.14, 16.10, 17.6 or later): upgrade postgresql-client",
      );
    if (message.includes("backslash commands are restricted"))
      throw new Error(
        `the backup contains psql meta-commands (a backslash command outside SQL), which restore refuses to run; nothing was restored (${message})`,
      );
    throw error;
  }
}

/** pg_dump's own `\restrict KEY` / `\unrestrict KEY` lines (COPY data escapes a leading backslash). */
const RESTRICT_LINE = /^\\(un)?restrict [A-Za-z0-9]+\r?$/;

/** Drops the dump's \restrict and \unrestrict lines; every other byte passes unchanged. */
function withoutRestrictLines(): Transform {
  let carry = "";
  const keep = (line: string) => !RESTRICT_LINE.test(line);
  const text = new StringDecoder("utf8"); // a character split across two chunks stays whole
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const lines = (carry + text.write(chunk)).split("\n");
      carry = lines.pop()!;
      const kept = lines.filter(keep);
      done(null, kept.length > 0 ? `${kept.join("\n")}\n` : "");
    },
    flush(done) {
      const last = carry + text.end();
      done(null, keep(last) ? last : "");
    },
  });
}
