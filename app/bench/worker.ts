// Jobs per second through `chatapi worker` (not a test; prints numbers). N rooms each get one
// message (written by the real MessageWriter, so each commit writes its outbox row) for one
// offline member with an e-mail address; the worker relays the N message.posted jobs, opens N
// batches, relays the N delayed digest jobs and sends N e-mails. Measured: the whole pipeline
// (message commit → e-mail accepted) and each job type. A private Mailpit (from the scripts/setup
// cache) takes the mail, so the shared SMTP sink's retention is never flooded.
// Usage (repository root, after npm run build):
//   npx tsx app/bench/worker.ts [--rooms 2000] [--concurrency 4] [--prefetch 20]
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createPool } from "../src/db/pool.js";
import { createClient } from "../src/domain/clients.js";
import { MessageWriter } from "../src/domain/message-writer.js";
import { createRoom } from "../src/domain/rooms.js";
import { workerEnv } from "../test/support/jobs.js";
import { startAppProcess } from "../../toolbox/processes.js";
import { createTestVhost } from "../test/support/rabbitmq.js";
import { freePort } from "../../toolbox/processes.js";
import { appEnv, createTestDatabase, loadServicesEnv } from "../test/support/services.js";

const { values } = parseArgs({
  options: {
    rooms: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "4" },
    prefetch: { type: "string", default: "20" },
  },
});
const ROOMS = Number(values.rooms);
loadServicesEnv();

const cache = process.env.CHATAPI_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "chatapi");
const mailpitBinary = join(cache, "mailpit-v1.33.1", "mailpit");
if (!existsSync(mailpitBinary)) throw new Error(`${mailpitBinary} is missing: run scripts/setup`);
const [smtpPort, httpPort] = [await freePort(), await freePort()];
const mailpit = spawn(
  mailpitBinary,
  [
    "--smtp",
    `127.0.0.1:${smtpPort}`,
    "--listen",
    `127.0.0.1:${httpPort}`,
    "--smtp-auth-accept-any",
    "--smtp-auth-allow-insecure",
    "--max",
    String(ROOMS * 2),
    "--disable-version-check",
  ],
  { stdio: "ignore" },
);

const db = await createTestDatabase();
const vhost = await createTestVhost();
const pool = createPool({ databaseUrl: db.url, poolSize: 4, maxOverflow: 4 });
const check = new pg.Pool({ connectionString: db.url, max: 1 });
try {
  const { client } = await createClient(pool, { name: "Bench", email: "bench@example.com" });
  const sender = await pool.query<{ id: string }>(
    "INSERT INTO users (client_id, external_id, display_name) VALUES ($1, 'sender', 'Sender') RETURNING id",
    [client.id],
  );
  const readers = await pool.query<{ id: string }>(
    `INSERT INTO users (client_id, external_id, display_name, email)
     SELECT $1, 'reader-' || i, 'Reader ' || i, 'reader-' || i || '@bench.example' FROM generate_series(1, $2) i
     RETURNING id`,
    [client.id, ROOMS],
  );
  const actor = { userId: sender.rows[0]!.id, clientId: client.id };
  const rooms: string[] = [];
  for (const reader of readers.rows)
    rooms.push((await createRoom(pool, actor, "bench room", [reader.id])).id);

  const env = workerEnv(appEnv(db.url, { RABBITMQ_URL: vhost.url }), {
    SMTP_PORT: String(smtpPort),
    NOTIFICATION_BATCH_SECONDS: "0.5",
    WORKER_CONCURRENCY: values.concurrency!,
    WORKER_PREFETCH: values.prefetch!,
    LOG_LEVEL: "WARNING",
  });
  const worker = await startAppProcess(env, ["worker"]);
  const count = async (sql: string) => (await check.query<{ n: number }>(sql)).rows[0]!.n;
  const waitFor = async (sql: string, target: number) => {
    while ((await count(sql)) < target) await new Promise((r) => setTimeout(r, 50));
    return performance.now();
  };

  const writer = new MessageWriter(pool);
  const started = performance.now();
  await Promise.all(rooms.map((roomId, i) => writer.send(actor, roomId, `bench message ${i}`, undefined)));
  const written = performance.now();
  const posted = await waitFor(
    "SELECT count(*)::int AS n FROM job_runs WHERE type = 'message.posted'",
    ROOMS,
  );
  const firstDigest = await waitFor("SELECT count(*)::int AS n FROM email_deliveries", 1);
  const mailed = await waitFor(
    "SELECT count(*)::int AS n FROM notification_batches WHERE status = 'sent'",
    ROOMS,
  );
  const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
  await worker.stop();
  const sample = (name: string, type: string) =>
    Number(
      new RegExp(`^${name}\\{type="${type.replace(".", "\\.")}"\\} ([0-9.e+-]+)$`, "m").exec(metrics)?.[1] ??
        NaN,
    );
  const avgMs = (type: string) =>
    (
      (sample("chatapi_job_duration_seconds_sum", type) /
        sample("chatapi_job_duration_seconds_count", type)) *
      1000
    ).toFixed(1);

  const s = (ms: number) => (ms / 1000).toFixed(2);
  const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
  console.log(
    `worker: ${ROOMS} rooms, concurrency ${values.concurrency}, prefetch ${values.prefetch}, batching window 0.5 s`,
  );
  console.log(`  messages committed (with outbox rows):  ${s(written - started)} s`);
  console.log(
    `  message.posted jobs (relay + batching): ${ROOMS} in ${s(posted - started)} s → ${rate(ROOMS, posted - started)} jobs/s`,
  );
  console.log(
    `  digest jobs (e-mail each, SMTP):        ${ROOMS} in ${s(mailed - firstDigest)} s → ${rate(ROOMS, mailed - firstDigest)} jobs/s (e-mails/s)`,
  );
  console.log(
    `  mean time per job in the handler: message.posted ${avgMs("message.posted")} ms, notification.digest ${avgMs("notification.digest")} ms`,
  );
  console.log(
    `  whole pipeline: ${2 * ROOMS} jobs in ${s(mailed - started)} s (incl. the 0.5 s window) → ${rate(2 * ROOMS, mailed - started)} jobs/s`,
  );
} finally {
  await pool.end();
  await check.end();
  await db.drop();
  await vhost.drop();
  mailpit.kill("SIGTERM");
}
