// Which backups retention removes: those taken before now − days, except the newest good one
// (a backup with its checksum beside it), which is kept however old it is — pruning never
// leaves you without a restorable backup. Names that are not backups are never touched.
import { CHECKSUM_SUFFIX, parseBackupName, type ParsedBackupName } from "./names.js";

export interface RetentionPlan {
  /** Backup names to delete (delete their checksum files too). */
  expired: string[];
  /** The newest backup with a checksum, kept whatever its age. */
  newestGood: string | undefined;
  /** Expired checksum files whose backup is gone. */
  orphanChecksums: string[];
}

/** Backups among the names, newest first. */
function backupsNewestFirst(names: string[]): ParsedBackupName[] {
  return names
    .map(parseBackupName)
    .filter((b): b is ParsedBackupName => b !== undefined)
    .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
}

/** The newest backup that has its checksum beside it (a finished, verified one). */
export function newestGoodBackup(names: string[]): ParsedBackupName | undefined {
  const present = new Set(names);
  return backupsNewestFirst(names).find((b) => present.has(b.name + CHECKSUM_SUFFIX));
}

export function planRetention(names: string[], now: Date, retentionDays: number): RetentionPlan {
  const present = new Set(names);
  const backups = backupsNewestFirst(names);
  const newestGood = newestGoodBackup(names)?.name;
  const cutoff = now.getTime() - retentionDays * 86_400_000;
  const expired = backups
    .filter((b) => b.takenAt.getTime() < cutoff && b.name !== newestGood)
    .map((b) => b.name);
  const orphanChecksums = names.filter((n) => {
    if (!n.endsWith(CHECKSUM_SUFFIX)) return false;
    const backup = parseBackupName(n.slice(0, -CHECKSUM_SUFFIX.length));
    return backup !== undefined && !present.has(backup.name) && backup.takenAt.getTime() < cutoff;
  });
  return { expired, newestGood, orphanChecksums };
}
