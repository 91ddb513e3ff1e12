// PostgreSQL CPU per persisted message: the app's own MessageWriter on a one-connection pool made
// by the app's createPool (its session settings included), against a throwaway ChatAPI database,
// timing the backend process (utime + stime from /proc). Needs app/dist (npm run build).
// Usage: npx tsx bench/tools/write-cost.ts [messages=3000] [batch sizes=1,4,20]
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { loadServices } from "../lib/services";
import { startChatApi } from "../systems/chatapi";

const TICKS_PER_S = 100;

function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 3000);
  const batches = (process.argv[3] ?? "1,4,20").split(",").map(Number);
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
