// `chatapi backup [--schedule "<cron>" | --daemon]`: one verified pg_dump backup (exit code says
// how it went), or, with a schedule, a long-running process that makes one at every tick and
// never two at once, serving its metrics on METRICS_PORT (a one-shot run pushes them to
// BACKUP_PUSHGATEWAY_URL when set; see backup/backup-metrics.ts). Exit codes: 0 done; 1 failed (no new backup); 3 the backup is good locally
// but the S3 upload or pruning failed; 75 another backup or restore holds the lock.
import type { AddressInfo } from "node:net";
import { Cron } from "croner";
import { cronProblem, loadConfig, type Config } from "../config/env.js";
import { BackupSchedulerMetrics, pushOutcome, type BackupOutcome } from "../backup/backup-metrics.js";
import { LockBusyError } from "../backup/lock.js";
import { runBackup, type BackupReport } from "../backup/run-backup.js";
import { backupDirProblem, writeBackupStatus } from "../backup/status.js";
import { startHealthServer } from "../jobs/health-server.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { CommandFailure, UsageError } from "./usage.js";

export const EXIT_PARTIAL = 3;
export const EXIT_LOCKED = 75; // EX_TEMPFAIL

export async function backupCommand(args: { schedule?: string | undefined; daemon: boolean }): Promise<void> {
  const config = loadConfig();
  const schedule = args.schedule ?? (args.daemon ? config.BACKUP_SCHEDULE : undefined);
  if (args.daemon && !schedule) throw new UsageError("--daemon needs BACKUP_SCHEDULE (or use --schedule)");
  if (schedule) {
    const problem = cronProblem(schedule);
    if (problem) throw new UsageError(`--schedule ${problem}`);
  }
  const logger = createLogger({
    level: config.LOG_LEVEL,
    instance: config.INSTANCE_NAME,
    environment: config.ENVIRONMENT,
    logFile: config.LOG_FILE,
  });
  if (!schedule) {
    const { code, outcome, reason } = await backupOnce(config, logger);
    // Run by hand, the outcome reaches the scheduler's health check and metrics too.
    recordStatus(config.BACKUP_DIR, code, reason);
    if (config.BACKUP_PUSHGATEWAY_URL) await pushMetrics(config.BACKUP_PUSHGATEWAY_URL, outcome, logger);
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    if (code !== 0)
      throw new CommandFailure(
        `backup ${code === EXIT_PARTIAL ? "done with problems" : "failed"} (see the log)`,
        code,
      );
    return;
  }
  await runScheduled(config, logger, schedule);
}

/** One run, logged; returns the exit code it deserves and what the metrics record. */
async function backupOnce(
  config: Config,
  logger: Logger,
  signal?: AbortSignal,
): Promise<{ code: number; outcome: BackupOutcome; reason?: string }> {
  let report: BackupReport;
  try {
    report = await runBackup(config, logger, signal);
  } catch (error) {
    if (error instanceof LockBusyError) {
      logger.warn({ err: error.message }, "backup skipped: another one is running");
      return { code: EXIT_LOCKED, outcome: { kind: "locked" } };
    }
    const reason = (error as Error).message;
    logger.error({ err: reason }, "backup failed; no new backup was kept");
    return { code: 1, outcome: { kind: "failed", endedAt: new Date() }, reason };
  }
  const outcome: BackupOutcome = {
    kind: "done",
    file: report.file,
    takenAt: report.takenAt,
    bytes: report.bytes,
    durationMs: report.durationMs,
    problems: report.problems,
    endedAt: new Date(),
  };
  const summary = {
    file: report.file,
    bytes: report.bytes,
    sha256: report.sha256,
    format: report.format,
    duration_ms: report.durationMs,
    pruned: report.pruned,
    uploaded: report.uploaded,
    s3_pruned: report.s3Pruned,
  };
  if (report.problems.length > 0) {
    logger.error({ ...summary, problems: report.problems }, "backup written and verified, with problems");
    return { code: EXIT_PARTIAL, outcome, reason: report.problems.join("; ") };
  }
  logger.info(summary, "backup complete");
  return { code: 0, outcome };
}

/** A push that fails does not fail the backup: the backup alerts then fire, which is the point. */
async function pushMetrics(url: string, outcome: BackupOutcome, logger: Logger): Promise<void> {
  try {
    await pushOutcome(url, outcome);
    logger.info({ pushgateway: url }, "backup metrics pushed");
  } catch (error) {
    logger.error({ err: (error as Error).message, pushgateway: url }, "pushing the backup metrics failed");
  }
}

/** A run locked out by another one says nothing about backups working: not recorded. */
function recordStatus(backupDir: string, code: number, reason: string | undefined): void {
  if (code === EXIT_LOCKED) return;
  const at = new Date().toISOString();
  writeBackupStatus(backupDir, {
    ok: code === 0,
    code,
    at,
    ...(reason ? { reason: reason.split("\n")[0]! } : {}),
  });
}

/** Runs until SIGTERM/SIGINT; a run in progress then is aborted (its partial file removed). */
async function runScheduled(config: Config, logger: Logger, schedule: string): Promise<void> {
  const abort = new AbortController();
  const metrics = new BackupSchedulerMetrics(config.BACKUP_DIR);
  let lastFailure: string | undefined;
  // A folder this user cannot write fails every run: say so now, not at the first scheduled one.
  const unwritable = backupDirProblem(config.BACKUP_DIR);
  if (unwritable) {
    logger.error({ err: unwritable }, "backups will fail: fix the owner of the backups volume or folder");
    metrics.record({ kind: "failed", endedAt: new Date() });
    recordStatus(config.BACKUP_DIR, 1, unwritable);
    lastFailure = unwritable;
  }
  const server = await startHealthServer(
    config.METRICS_PORT,
    metrics,
    async (): Promise<Record<string, string>> => (lastFailure ? { backup: lastFailure } : {}),
  );
  let running: Promise<{ code: number; outcome: BackupOutcome; reason?: string }> | undefined;
  const job = new Cron(schedule, { protect: true }, async () => {
    running = backupOnce(config, logger, abort.signal);
    const { code, outcome, reason } = await running;
    running = undefined;
    metrics.record(outcome);
    if (code !== EXIT_LOCKED) lastFailure = code === 0 ? undefined : `the last run exited ${code}`;
    recordStatus(config.BACKUP_DIR, code, reason);
    logger.info({ next_run: job.nextRun()?.toISOString() }, "next backup scheduled");
  });
  const metricsPort = (server.address() as AddressInfo).port;
  logger.info(
    { schedule, next_run: job.nextRun()?.toISOString(), metrics_port: metricsPort },
    "backup scheduler started",
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal, running: running !== undefined }, "signal received: stopping the scheduler");
      job.stop();
      abort.abort();
      void Promise.resolve(running).then(() => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}
