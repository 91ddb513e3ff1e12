// Backup and restore time for a database of N messages (not a test; prints numbers): seeds a
// throwaway database (1 tenant, 50 users, 100 rooms, N messages of ~120 characters), then times
// `chatapi backup` and `chatapi restore` (into an empty database) for both formats.
// Usage (repository root, after npm run build):  npx tsx app/bench/backup.ts [--messages 100000]
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { runCli } from "../test/support/backup.js";
import { createTestDatabase, loadServicesEnv } from "../test/support/services.js";

const { values } = parseArgs({ options: { messages: { type: "string", default: "100000" } } });
const MESSAGES = Number(values.messages);
loadServicesEnv();

const source = await createTestDatabase();
const dir = mkdtempSync(join(tmpdir(), "chatapi-bench-backups-"));
const targets: Array<{ drop(): Promise<void> }> = [];
try {
  const db = new pg.Client({ connectionString: source.url });
  await db.connect();
  const seeded = performance.now();
  await db.query(`
    WITH c AS (INSERT INTO clients (name, email) VALUES ('Bench', 'bench@example.com') RETURNING id),
    u AS (INSERT INTO users (client_id, external_id, display_name, email)
          SELECT c.id, 'u' || i, 'User ' || i, 'u' || i || '@bench.example' FROM c, generate_series(1, 50) i RETURNING id, client_id),
    r AS (INSERT INTO rooms (client_id, name) SELECT DISTINCT ON (i) u.client_id, 'room ' || i FROM u, generate_series(1, 100) i RETURNING id)
    INSERT INTO room_members (room_id, user_id) SELECT r.id, u.id FROM r, u`);
  await db.query(
    `WITH rooms_n AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM rooms),
          users_n AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users)
     INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id)
     SELECT r.id, (i / 100) + 1, u.id,
            'message ' || i || ' ' || md5(i::text) || ' lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod',
            'c' || i
       FROM generate_series(0, $1 - 1) i
       JOIN rooms_n r ON r.n = i % 100
       JOIN users_n u ON u.n = i % 50`,
    [MESSAGES],
  );
  await db.query(
    "UPDATE rooms SET last_seq = (SELECT coalesce(max(seq), 0) FROM messages m WHERE m.room_id = rooms.id)",
  );
  await db.query("VACUUM ANALYZE");
  const size = await db.query<{ size: string }>(
    "SELECT pg_size_pretty(pg_database_size(current_database())) AS size",
  );
  await db.end();
  console.log(
    `backup bench: ${MESSAGES} messages, database ${size.rows[0]!.size} (seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s)`,
  );

  for (const format of ["plain-gz", "custom"] as const) {
    const t0 = performance.now();
    const backup = await runCli(["backup"], {
      DATABASE_URL: source.url,
      BACKUP_DIR: dir,
      BACKUP_FORMAT: format,
      LOG_LEVEL: "WARNING",
    });
    const t1 = performance.now();
    if (backup.code !== 0) throw new Error(`backup failed: ${backup.stdout}${backup.stderr}`);
    const file = readdirSync(dir).find((n) => n.endsWith(format === "custom" ? ".dump" : ".sql.gz"))!;
    const target = await createTestDatabase({ migrate: false });
    targets.push(target);
    const t2 = performance.now();
    const restore = await runCli(["restore", join(dir, file)], {
      DATABASE_URL: target.url,
      LOG_LEVEL: "WARNING",
    });
    const t3 = performance.now();
    if (restore.code !== 0) throw new Error(`restore failed: ${restore.stdout}${restore.stderr}`);
    const mb = (statSync(join(dir, file)).size / 1024 / 1024).toFixed(1);
    console.log(
      `  ${format.padEnd(8)} backup ${((t1 - t0) / 1000).toFixed(1)} s (dump + verify + sha256, ${mb} MiB)  restore ${((t3 - t2) / 1000).toFixed(1)} s (checks + one transaction + migrate)`,
    );
  }
} finally {
  await Promise.all(targets.map((t) => t.drop()));
  await source.drop();
  rmSync(dir, { recursive: true, force: true });
}
