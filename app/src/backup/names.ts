// Backup file names: chatapi_backup_YYYYmmdd_HHMMSS.sql.gz (plain SQL, gzip) or .dump (pg_dump
// custom format), in UTC. The time in the name (not the file's mtime, which copies change) is
// what retention goes by.

export type BackupFormat = "plain-gz" | "custom";

const EXTENSIONS: Record<BackupFormat, string> = { "plain-gz": ".sql.gz", custom: ".dump" };
const NAME = /^chatapi_backup_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})\.(sql\.gz|dump)$/;

export const CHECKSUM_SUFFIX = ".sha256";

export function backupFileName(at: Date, format: BackupFormat): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp =
    `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}_` +
    `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `chatapi_backup_${stamp}${EXTENSIONS[format]}`;
}

export interface ParsedBackupName {
  name: string;
  takenAt: Date;
  format: BackupFormat;
}

/** Parses a backup file name; anything else (other files, checksums) gives undefined. */
export function parseBackupName(name: string): ParsedBackupName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const takenAt = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (Number.isNaN(takenAt.getTime()) || takenAt.getUTCDate() !== d || takenAt.getUTCMonth() !== mo - 1) {
    return undefined;
  }
  return { name, takenAt, format: m[7] === "dump" ? "custom" : "plain-gz" };
}
