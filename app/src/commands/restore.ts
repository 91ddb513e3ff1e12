// `chatapi restore <file | s3://bucket/key> [--force] [--verify-only] [--allow-missing-checksum]`:
// restores a backup into DATABASE_URL and migrates it. Exit codes: 0 restored (or verified);
// 1 failed; 4 the database is not empty (nothing changed; --force replaces it); 5 the backup is
// corrupt, its checksum does not match or it has no .sha256 (nothing changed); 75 another backup
// or restore holds the lock.
import { loadConfig } from "../config/env.js";
import { CorruptBackupError } from "../backup/archive.js";
import { LockBusyError } from "../backup/lock.js";
import { DatabaseNotEmptyError, runRestore } from "../backup/run-restore.js";
import { createLogger } from "../observability/logger.js";
import { EXIT_LOCKED } from "./backup.js";
import { CommandFailure, UsageError } from "./usage.js";

export const EXIT_NOT_EMPTY = 4;
export const EXIT_CORRUPT = 5;

export async function restoreCommand(args: {
  source?: string | undefined;
  force: boolean;
  verifyOnly: boolean;
  allowMissingChecksum?: boolean;
}): Promise<void> {
  if (!args.source) throw new UsageError("restore needs a backup: chatapi restore <file | s3://bucket/key>");
  const config = loadConfig();
  const logger = createLogger({
    level: config.LOG_LEVEL,
    instance: config.INSTANCE_NAME,
    environment: config.ENVIRONMENT,
    logFile: config.LOG_FILE,
  });
  const flush = () => new Promise<void>((resolve) => logger.flush(() => resolve()));
  try {
    const report = await runRestore(config, logger, {
      source: args.source,
      force: args.force,
      verifyOnly: args.verifyOnly,
      allowMissingChecksum: args.allowMissingChecksum ?? false,
    });
    logger.info(
      {
        source: report.source,
        format: report.format,
        checksum: report.checksum,
        migrations_applied: report.migrationsApplied,
        duration_ms: report.durationMs,
      },
      report.restored ? "restore complete" : "backup verified (nothing restored: --verify-only)",
    );
    await flush();
  } catch (error) {
    const message = (error as Error).message;
    const code =
      error instanceof CorruptBackupError
        ? EXIT_CORRUPT
        : error instanceof DatabaseNotEmptyError
          ? EXIT_NOT_EMPTY
          : error instanceof LockBusyError
            ? EXIT_LOCKED
            : 1;
    logger.error({ err: message, exit_code: code }, "restore failed; the database was not changed");
    await flush();
    throw new CommandFailure(`restore failed: ${message}`, code);
  }
}
