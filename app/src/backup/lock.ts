// "Never two at once": backups and restores of one database take a PostgreSQL advisory lock
// (session level) on a connection held for the whole run. It works across hosts and containers
// (a Docker scheduler and a Kubernetes CronJob pod alike) and is released by PostgreSQL itself
// when the holder dies, so no stale lock file can block the next run.
import pg from "pg";

/** 'chatapi backup' as a number: the same key for backup and restore. */
const LOCK_KEY = 0x63686174_6261n; // "chat" "ba"

export class LockBusyError extends Error {
  override name = "LockBusyError";
}

export interface HeldLock {
  release(): Promise<void>;
}

export async function acquireBackupLock(databaseUrl: string, what: string): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: `chatapi-${what}-lock` });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [
      LOCK_KEY.toString(),
    ]);
    if (!rows[0]?.locked) {
      const holder = await client.query<{ application_name: string; backend_start: Date }>(
        `SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ($1::bigint & 4294967295)::oid
          LIMIT 1`,
        [LOCK_KEY.toString()],
      );
      const by = holder.rows[0];
      throw new LockBusyError(
        `another backup or restore of this database is running${by ? ` (${by.application_name}, since ${by.backend_start.toISOString()})` : ""}`,
      );
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    release: async () => {
      await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY.toString()]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
