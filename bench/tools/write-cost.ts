// PostgreSQL CPU per persisted message: the app's own MessageWriter on a one-connection pool made
// by the app's createPool (its session settings included), against a throwaway ChatAPI database,
// timing the backend process (utime + stime from /proc). Needs app/dist (npm run build).
// Usage: npx tsx bench/tools/write-cost.ts [messages=3000] [batch sizes=1,4,20] [--floor]
//          [--without fks,checks]
// --floor first times what every statement pays whatever it does, on the same connection: a
// round trip (`SELECT 1`) and a committed one-row `UPDATE`. --without is a what-if on the
// throwaway database only: it drops the foreign keys (fks) or CHECK constraints (checks) of
// messages and outbox before measuring, to size what they cost; the app's schema keeps both.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { parseCommandLine } from "../../scripts/lib/cli-args";
import { loadServices } from "../lib/services";
import { startChatApi } from "../systems/chatapi";

const TICKS_PER_S = 100;

const WITHOUT: Record<string, string> = {
  fks: "ALTER TABLE messages DROP CONSTRAINT messages_room_id_fkey, DROP CONSTRAINT messages_sender_id_fkey",
  checks:
    "ALTER TABLE messages DROP CONSTRAINT messages_body_check; ALTER TABLE outbox DROP CONSTRAINT outbox_delay_ms_check",
};

function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

async function main(): Promise<void> {
  const usage =
    "usage: npx tsx bench/tools/write-cost.ts [messages=3000] [batch sizes=1,4,20] [--floor] [--without fks,checks]";
  const { values, positionals } = parseCommandLine("write-cost", usage, {
    allowPositionals: true,
    options: { floor: { type: "boolean", default: false }, without: { type: "string", default: "" } },
  });
  const messages = Number(positionals[0] ?? 3000);
  const batches = (positionals[1] ?? "1,4,20").split(",").map(Number);
  const without = values.without.split(",").filter((name) => name !== "");
  for (const name of without)
    if (!(name in WITHOUT))
      throw new Error(`--without: unknown "${name}" (known: ${Object.keys(WITHOUT).join(", ")})`);
  if (!Number.isInteger(messages) || messages < 1 || batches.some((b) => !Number.isInteger(b) || b < 1))
    throw new Error(`messages and batch sizes must be positive integers (got ${positionals.join(" ")})`);
  const services = loadServices();
  const system = await startChatApi({
    adminDatabaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    rabbitmqUrl: services.rabbitmqUrl,
    logDir: mkdtempSync(join(tmpdir(), "chatapi-write-cost-")),
    rooms: 20,
    members: 2,
  });
  try {
    const dist = join(__dirname, "..", "..", "app", "dist");
    const { MessageWriter } = (await import(join(dist, "domain", "message-writer.js"))) as {
      MessageWriter: new (pool: pg.Pool) => {
        send(a: unknown, r: string, b: string, c?: string): Promise<unknown>;
      };
    };
    const { createPool } = (await import(join(dist, "db", "pool.js"))) as {
      createPool(o: { databaseUrl: string; poolSize: number; maxOverflow: number }): pg.Pool;
    };
    const pool = createPool({ databaseUrl: system.databaseUrl, poolSize: 1, maxOverflow: 0 });
    const { rows } = await pool.query<{ room_id: string; user_id: string; client_id: string; pid: number }>(
      `SELECT DISTINCT ON (m.room_id) m.room_id, m.user_id, r.client_id, pg_backend_pid() AS pid
         FROM room_members m JOIN rooms r ON r.id = m.room_id ORDER BY m.room_id`,
    );
    const pid = rows[0]!.pid;
    for (const name of without) {
      await pool.query(WITHOUT[name]!);
      console.log(`without ${name}: ${WITHOUT[name]}`);
    }
    if (values.floor) {
      const floors: Array<[string, pg.QueryConfig]> = [
        ["round trip (SELECT 1)", { name: "floor_select", text: "SELECT 1" }],
        [
          "committed one-row UPDATE",
          {
            name: "floor_update",
            text: "UPDATE rooms SET last_seq = last_seq WHERE id = $1",
            values: [rows[0]!.room_id],
          },
        ],
      ];
      for (const [label, query] of floors) {
        const before = backendCpuMs(pid);
        for (let i = 0; i < messages; i++) await pool.query(query);
        console.log(
          `${label}: backend CPU ${Math.round(((backendCpuMs(pid) - before) * 1000) / messages)} µs/statement`,
        );
      }
    }
    const writer = new MessageWriter(pool);
    for (const batch of batches) {
      const before = backendCpuMs(pid);
      const started = process.hrtime.bigint();
      for (let i = 0; i < messages; i += batch) {
        await Promise.all(
          Array.from({ length: batch }, (_, j) => {
            const row = rows[(i + j) % rows.length]!;
            return writer.send(
              { userId: row.user_id, clientId: row.client_id },
              row.room_id,
              `cost ${i + j} `.padEnd(100, "x"),
              `c-${batch}-${i + j}`,
            );
          }),
        );
      }
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const cpuMs = backendCpuMs(pid) - before;
      console.log(
        `batch ${batch}: ${messages} messages, backend CPU ${Math.round((cpuMs * 1000) / messages)} µs/message, ` +
          `wall ${Math.round((wallMs * 1000) / messages)} µs/message`,
      );
    }
    await pool.end();
  } finally {
    await system.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
