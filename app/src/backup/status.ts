// What the backup container's health check reads: the outcome of the last run (scheduled, or
// `chatapi backup` run by hand in the same container, which shares its /tmp), and whether
// BACKUP_DIR can be written at all (a volume owned by another user fails every run, so the
// check says so at deploy time rather than at the first 02:00 run).
import { accessSync, constants, readFileSync, writeFileSync } from "node:fs";

/** Where runs record their outcome; /tmp is the container's own tmpfs. */
export const BACKUP_STATUS_FILE = "/tmp/chatapi-backup-status.json";

export interface BackupStatus {
  ok: boolean;
  /** The run's exit code (0 done, 1 failed, 3 done with problems). */
  code: number;
  /** ISO time the run ended. */
  at: string;
  /** Why it failed (one line), when it did. */
  reason?: string;
}

export function writeBackupStatus(status: BackupStatus, file = BACKUP_STATUS_FILE): void {
  try {
    writeFileSync(file, JSON.stringify(status));
  } catch {
    // /tmp not writable: the health check then sees only the folder and the process.
  }
}

export function readBackupStatus(file = BACKUP_STATUS_FILE): BackupStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as BackupStatus;
  } catch {
    return undefined;
  }
}

/** Why this process cannot write backups into `dir`, or undefined when it can. */
export function backupDirProblem(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    const uid = process.getuid?.();
    return `BACKUP_DIR ${dir} is not writable by uid ${uid ?? "?"} (${code})`;
  }
}

/** The health verdict of a backup container: undefined when healthy, else the reason. */
export function backupHealthProblem(dir: string, file = BACKUP_STATUS_FILE): string | undefined {
  const unwritable = backupDirProblem(dir);
  if (unwritable) return unwritable;
  const last = readBackupStatus(file);
  if (last && !last.ok)
    return `the last backup run failed at ${last.at} (exit ${last.code})${last.reason ? `: ${last.reason}` : ""}`;
  return undefined;
}
