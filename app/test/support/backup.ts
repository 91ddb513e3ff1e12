// Helpers for backup/restore tests: run the CLI, seed a database, compare databases row by row.
import { execFile } from "node:child_process";
import pg from "pg";
import { createPool } from "../../src/db/pool.js";
import { createClient } from "../../src/domain/clients.js";
import { MessageWriter } from "../../src/domain/message-writer.js";
import { createRoom } from "../../src/domain/rooms.js";
import { upsertUser } from "../../src/domain/users.js";
import { assertBuildCurrent, CLI } from "../../../toolbox/processes.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's JSON log lines. */
  logs: Array<Record<string, unknown>>;
}

export function runCli(args: string[], env: Record<string, string>, timeoutMs = 300_000): Promise<CliResult> {
  assertBuildCurrent();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "INFO", ...env },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number | string }).code as number | null) : 0;
        const logs = stdout
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        resolve({ code: typeof code === "number" ? code : null, stdout, stderr, logs });
      },
    );
  });
}

/** A tenant, users (with and without e-mail), rooms and messages with awkward bodies. */
export async function seedChat(databaseUrl: string, messages = 60): Promise<void> {
  const pool = createPool({ databaseUrl, poolSize: 2, maxOverflow: 0 });
  try {
    const { client } = await createClient(pool, {
      name: "Backup Co",
      email: `backup-${Date.now()}@example.com`,
    });
    const user = async (id: string, email?: string) => ({
      userId: (await upsertUser(pool, client.id, { external_id: id, display_name: `User ${id}`, email })).user
        .id,
      clientId: client.id,
    });
    const alice = await user("alice", "alice@example.com");
    const bob = await user("bob");
    const room = await createRoom(pool, alice, "backups", [bob.userId]);
    const other = await createRoom(pool, bob, "Ünïcode ✓ room", [alice.userId]);
    const writer = new MessageWriter(pool);
    for (let i = 0; i < messages; i++) {
      const body = i % 7 === 0 ? `line one\nline two\t'quoted' "double" \\ backslash ${i} ✓` : `message ${i}`;
      await writer.send(i % 2 ? alice : bob, i % 3 ? room.id : other.id, body, `c-${i}`);
    }
  } finally {
    await pool.end();
  }
}

/** Every row of every table in public (as sorted JSON), plus sequence positions. */
export async function snapshot(databaseUrl: string): Promise<Record<string, string[]>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const tables = await db.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    const result: Record<string, string[]> = {};
    for (const { name } of tables.rows) {
      const { rows } = await db.query<{ row: string }>(
        `SELECT to_jsonb(t)::text AS row FROM public."${name}" t ORDER BY 1`,
      );
      result[name] = rows.map((r) => r.row);
    }
    const sequences = await db.query<{ name: string; value: string | null }>(
      "SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
    );
    result["(sequences)"] = sequences.rows.map((s) => `${s.name}=${s.value}`);
    return result;
  } finally {
    await db.end();
  }
}
