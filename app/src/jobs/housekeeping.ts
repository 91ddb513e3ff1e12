// Old bookkeeping rows go after their redelivery horizon: job ids and e-mail claims are kept 14
// days (a redelivery weeks later is not a thing RabbitMQ does), finished batches 30 days.
import type pg from "pg";

export async function pruneJobRecords(pool: pg.Pool): Promise<number> {
  const results = await Promise.all([
    pool.query("DELETE FROM job_runs WHERE finished_at < now() - interval '14 days'"),
    pool.query("DELETE FROM email_deliveries WHERE created_at < now() - interval '14 days'"),
    pool.query(
      "DELETE FROM notification_batches WHERE finished_at IS NOT NULL AND finished_at < now() - interval '30 days'",
    ),
  ]);
  return results.reduce((sum, r) => sum + (r.rowCount ?? 0), 0);
}
