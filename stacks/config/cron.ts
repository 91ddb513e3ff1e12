// Backup schedules: standard 5-field cron (minute hour day-of-month month day-of-week), the
// form both Kubernetes CronJobs and `chatapi backup --schedule` accept. cron-parser does the
// parsing; it also takes a seconds field, which Kubernetes does not, so the count is checked.
import { CronExpressionParser } from "cron-parser";

export function cronError(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} fields, a cron expression has 5`;
  try {
    CronExpressionParser.parse(expression, { strict: false });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
