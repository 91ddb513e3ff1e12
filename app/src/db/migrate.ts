// Schema migrations with node-pg-migrate: plain SQL files in app/migrations, applied in order
// under a PostgreSQL advisory lock, so several instances (or jobs) starting at once are safe:
// the first applies them, the others wait and then find nothing to do.
import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type pg from "pg";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));
const MIGRATIONS_TABLE = "schema_migrations";

export interface MigrationLog {
  info(message: string): void;
}

/** Applies every pending migration; returns the names it applied (empty when up to date). */
export async function migrateUp(databaseUrl: string, log?: MigrationLog): Promise<string[]> {
  const quiet = () => undefined;
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: "up",
    checkOrder: true,
    // Wait for the lock (the default fails the second runner): concurrent starts then all succeed.
    advisoryLockMode: "wait",
    singleTransaction: true,
    logger: {
      debug: quiet,
      info: quiet,
      warn: (m: string) => log?.info(m),
      error: (m: string) => log?.info(m),
    },
  });
  return applied.map((m) => m.name);
}

/** Names of migrations not yet applied (`serve` refuses to start on an outdated schema). */
export async function pendingMigrations(pool: pg.Pool): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith(".sql"))
    .map((f) => f.slice(0, -".sql".length))
    .sort();
  const table = await pool.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [
    MIGRATIONS_TABLE,
  ]);
  if (!table.rows[0]?.exists) return files;
  const { rows } = await pool.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`);
  const applied = new Set(rows.map((r) => r.name));
  return files.filter((f) => !applied.has(f));
}
