// Backup schedules: standard 5-field cron (minute hour day-of-month month day-of-week), the
// form Kubernetes CronJobs take. Judged by croner, the library that runs the schedule on a
// Docker host (`chatapi backup --schedule`, app/src/config/env.ts), with the same options, so
// a schedule the deploy accepts is one the backup container accepts, and the reverse.
// croner also takes a seconds and a year field, which Kubernetes does not: the count is checked.
import { Cron } from "croner";

/** croner accepts a date that does not exist (e.g. February 30th); nothing would ever run. */
export const NEVER_RUNS = "it never runs (no date matches it)";

export function cronError(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} fields, a cron expression has 5`;
  try {
    const schedule = new Cron(expression, { paused: true });
    const next = schedule.nextRun();
    schedule.stop();
    return next ? undefined : NEVER_RUNS;
  } catch (error) {
    return (error as Error).message;
  }
}
