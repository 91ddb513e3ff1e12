// A throwaway database on the benchmark's PostgreSQL for one system under test: created before
// its servers start, force-dropped when it stops. Its backends are the system's helper processes
// (their CPU is the system's), and the messages stored in it are counted after each step.
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface BenchDatabase {
  url: string;
  /** PostgreSQL backends serving this database (not the benchmark's own connection). */
  helperPids(): Promise<number[]>;
  /** Rows of `messages` whose body starts with `bodyPrefix` (the persistence check). */
  countStored(bodyPrefix: string): Promise<number>;
  query<R extends pg.QueryResultRow>(sql: string): Promise<R[]>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `chatapi_t_bench_${label}_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // An idle connection ended by PostgreSQL (the database dropped or the private server stopped
  // at the end of a run) is not an error of the benchmark; a query on a dead one still fails.
  pool.on("error", () => undefined);
  return {
    url: url.toString(),
    helperPids: async () => {
      const { rows } = await pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      return rows.map((row) => row.pid);
    },
    countStored: async (bodyPrefix) => {
      const { rows } = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM messages WHERE body LIKE $1",
        [`${bodyPrefix.replace(/[%_\\]/g, "\\$&")}%`],
      );
      return Number(rows[0]!.n);
    },
    query: async <R extends pg.QueryResultRow>(sql: string) => (await pool.query<R>(sql)).rows,
    drop: async () => {
      await pool.end().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
