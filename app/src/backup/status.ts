// What the backup container's health check reads: the outcome of the last run (scheduled or
// `chatapi backup` run by hand), recorded in BACKUP_DIR itself (so it survives a restart of the
// container and belongs to that folder's backups), and whether BACKUP_DIR can be written at all (a
// volume owned by another user fails every run, so the check says so at deploy time rather than at
// the first 02:00 run). Retention never touches the file (it is no backup).
import { accessSync, constants, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where runs record their outcome: a hidden file in the backup folder. */
export const statusFile = (backupDir: string) => join(backupDir, ".chatapi-backup-status.json");

export interface BackupStatus {
  ok: boolean;
  /** The run's exit code (0 done, 1 failed, 3 done with problems). */
  code: number;
  /** ISO time the run ended. */
  at: string;
  /** Why it failed (one line), when it did. */
  reason?: string;
}

export function writeBackupStatus(backupDir: string, status: BackupStatus): void {
  try {
    writeFileSync(statusFile(backupDir), JSON.stringify(status));
  } catch {
    // The folder cannot be written: the health check says so without this file.
  }
}

export function readBackupStatus(backupDir: string): BackupStatus | undefined {
  try {
    return JSON.parse(readFileSync(statusFile(backupDir), "utf8")) as BackupStatus;
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
export function backupHealthProblem(dir: string): string | undefined {
  const unwritable = backupDirProblem(dir);
  if (unwritable) return unwritable;
  const last = readBackupStatus(dir);
  if (last && !last.ok)
    return `the last backup run failed at ${last.at} (exit ${last.code})${last.reason ? `: ${last.reason}` : ""}`;
  return undefined;
}
