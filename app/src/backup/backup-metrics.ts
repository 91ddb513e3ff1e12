// Prometheus metrics of backups (the alert rules in components/monitoring/alert-rules.yaml read
// them). They reach Prometheus in one of two ways:
// - `chatapi backup --schedule` (the Docker target's backup container) serves them on
//   METRICS_PORT. The newest verified backup is read from BACKUP_DIR when scraped, so the value
//   survives a restart of the scheduler and counts a backup made by hand as well.
// - a one-shot `chatapi backup` (the Kubernetes CronJob) pushes them to a Pushgateway when
//   BACKUP_PUSHGATEWAY_URL is set: job "chatapi-backup", by POST, which replaces only the metrics
//   pushed, so a failed run leaves the last success where it was.
import { readdir } from "node:fs/promises";
import { Gauge, Pushgateway, Registry, collectDefaultMetrics } from "prom-client";
import { newestGoodBackup } from "./retention.js";
import { readBackupStatus } from "./status.js";

/** The job label backups are known by, scraped or pushed. */
export const BACKUP_JOB = "chatapi-backup";

export type BackupOutcome =
  | {
      kind: "done";
      file: string;
      /** When the backup began, to the millisecond (its name says it to the second). */
      takenAt: Date;
      bytes: number;
      durationMs: number;
      problems: string[];
      endedAt: Date;
    }
  | { kind: "failed"; endedAt: Date }
  | { kind: "locked" };

const HELP = {
  chatapi_backup_last_success_timestamp_seconds:
    "When the newest verified backup was taken, in Unix seconds (the UTC time in its name, or to the millisecond from the run that wrote it)",
  chatapi_backup_last_failure_timestamp_seconds:
    "When the last failed backup run ended (no backup written, or written but its S3 upload or pruning failed)",
  chatapi_backup_last_size_bytes: "Size of the last backup written",
  chatapi_backup_last_duration_seconds: "Duration of the last backup run that wrote a backup",
} as const;
type BackupMetricName = keyof typeof HELP;

/** What a run tells Prometheus: the metrics it sets (a run that was locked out sets none). */
export function outcomeSamples(outcome: BackupOutcome): Partial<Record<BackupMetricName, number>> {
  if (outcome.kind === "locked") return {};
  const ended = outcome.endedAt.getTime() / 1000;
  if (outcome.kind === "failed") return { chatapi_backup_last_failure_timestamp_seconds: ended };
  // To the millisecond, not the second of the name: a run that failed earlier in the same
  // second as this one began is older than this backup (a failure then a quick retry).
  return {
    chatapi_backup_last_success_timestamp_seconds: outcome.takenAt.getTime() / 1000,
    chatapi_backup_last_size_bytes: outcome.bytes,
    chatapi_backup_last_duration_seconds: outcome.durationMs / 1000,
    ...(outcome.problems.length > 0 ? { chatapi_backup_last_failure_timestamp_seconds: ended } : {}),
  };
}

/**
 * The scheduler's metrics: what its runs set, plus what is read at scrape time: the newest good
 * backup in BACKUP_DIR, and a failed run made by hand (its status file in BACKUP_DIR).
 */
export class BackupSchedulerMetrics {
  readonly registry = new Registry();
  private readonly values: Partial<Record<BackupMetricName, number>> = {};

  constructor(backupDir: string, options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const values = this.values;
    for (const name of Object.keys(HELP) as BackupMetricName[]) {
      new Gauge({
        name,
        help: HELP[name],
        registers: [this.registry],
        async collect() {
          let value = values[name];
          if (name === "chatapi_backup_last_success_timestamp_seconds") {
            const onDisk = await newestBackupTime(backupDir);
            if (onDisk !== undefined) value = Math.max(value ?? 0, onDisk);
          }
          if (name === "chatapi_backup_last_failure_timestamp_seconds") {
            const last = readBackupStatus(backupDir);
            if (last && !last.ok) value = Math.max(value ?? 0, Date.parse(last.at) / 1000);
          }
          // No sample until there is a value: "never" must not read as 1970.
          if (value === undefined) this.remove();
          else this.set(value);
        },
      });
    }
  }

  record(outcome: BackupOutcome): void {
    Object.assign(this.values, outcomeSamples(outcome));
  }
}

/** Unix seconds of the newest backup with its checksum in the folder; undefined if none (or unreadable). */
export async function newestBackupTime(dir: string): Promise<number | undefined> {
  const names = await readdir(dir).catch(() => []);
  const newest = newestGoodBackup(names);
  return newest ? newest.takenAt.getTime() / 1000 : undefined;
}

/** Pushes what one run set to the Pushgateway (job chatapi-backup, no instance: one backup per stack). */
export async function pushOutcome(gatewayUrl: string, outcome: BackupOutcome): Promise<void> {
  const samples = outcomeSamples(outcome);
  if (Object.keys(samples).length === 0) return;
  const registry = new Registry();
  for (const [name, value] of Object.entries(samples) as Array<[BackupMetricName, number]>) {
    new Gauge({ name, help: HELP[name], registers: [registry] }).set(value);
  }
  await new Pushgateway(gatewayUrl, { timeout: 10_000 }, registry).pushAdd({ jobName: BACKUP_JOB });
}
