// RabbitMQ down while messages are posted: the API keeps accepting them (the jobs wait in the
// PostgreSQL outbox), and once the broker is back every job is delivered and every recipient
// gets exactly one e-mail. Jobs already inside RabbitMQ (a digest waiting in its delay queue)
// survive the broker restart. Runs a private RabbitMQ node: the shared broker is never stopped.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRoomWith,
  mailTenant,
  metricValue,
  postMessage,
  waitUntil,
  workerEnv,
} from "./support/jobs.js";
import { mailTo, waitForMail } from "./support/mailpit.js";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import { PrivateRabbit } from "../../toolbox/private-services.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";

let db: TestDatabase;
let rabbit: PrivateRabbit;
let pool: pg.Pool;
let api: AppProcess;
let worker: AppProcess;
let adminKey: string;

beforeAll(async () => {
  [db, rabbit] = await Promise.all([createTestDatabase(), PrivateRabbit.start()]);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  adminKey = await createAdminKey(db.url);
  const apiEnv = appEnv(db.url, { RABBITMQ_URL: rabbit.url });
  [api, worker] = await Promise.all([
    startAppProcess(apiEnv),
    startAppProcess(workerEnv(apiEnv, { NOTIFICATION_BATCH_SECONDS: "3" }), ["worker"]),
  ]);
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await rabbit?.dispose();
  await pool?.end();
  await db?.drop();
});

async function count(sql: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(sql);
  return rows[0]!.n;
}

describe("RabbitMQ outage", () => {
  it("delivers every job exactly once after the broker comes back", async () => {
    const t = await mailTenant(api.url, adminKey, "outage");
    const alice = await t.user("Alice");
    const early = await t.user("Early");
    const earlyRoom = await createRoomWith(api.url, alice, "Before the outage", [early.id]);

    // A digest job already inside RabbitMQ (waiting out its batching delay) when the broker stops.
    await postMessage(api.url, alice, earlyRoom, "posted before the outage");
    await waitUntil(
      "the early batch to be opened and its digest job relayed",
      async () =>
        (await count("SELECT count(*)::int AS n FROM notification_batches WHERE status = 'pending'")) === 1 &&
        (await count("SELECT count(*)::int AS n FROM outbox")) === 0,
    );
    await rabbit.stopProcess();

    const recipients = [];
    let posted = 1;
    for (let i = 0; i < 5; i++) {
      const user = await t.user(`Offline${i}`);
      const roomId = await createRoomWith(api.url, alice, `Room ${i}`, [user.id]);
      await postMessage(api.url, alice, roomId, `first message for room ${i}`);
      await postMessage(api.url, alice, roomId, `second message for room ${i}`);
      posted += 2;
      recipients.push(user);
    }
    // The broker is down: the jobs wait in the outbox, the messages are stored all the same.
    expect(await count("SELECT count(*)::int AS n FROM outbox")).toBe(10);
    const ready = await fetch(`http://127.0.0.1:${worker.port}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await mailTo(recipients[0]!.email!)).toEqual([]);

    await rabbit.startProcess();
    try {
      for (const user of [early, ...recipients]) await waitForMail(user.email!, 1, 60_000);
    } catch (error) {
      console.log(worker.output.slice(-40).join("\n"));
      for (const user of [early, ...recipients]) console.log(user.name, (await mailTo(user.email!)).length);
      console.log((await pool.query("SELECT status, detail FROM notification_batches")).rows);
      throw error;
    }
    await waitUntil(
      "every batch to be mailed",
      async () =>
        (await count("SELECT count(*)::int AS n FROM outbox")) === 0 &&
        (await count("SELECT count(*)::int AS n FROM notification_batches WHERE status <> 'sent'")) === 0,
    );
    await new Promise((r) => setTimeout(r, 4000)); // longer than the batching window
    for (const user of [early, ...recipients]) expect(await mailTo(user.email!)).toHaveLength(1);
    // Every message.posted job ran once (its id is recorded once: a second run is refused).
    expect(await count("SELECT count(*)::int AS n FROM job_runs WHERE type = 'message.posted'")).toBe(posted);
    expect(await count("SELECT count(*)::int AS n FROM email_deliveries")).toBe(6);
    expect(
      await metricValue(worker.port, "chatapi_jobs_done_total", {
        type: "notification.digest",
        outcome: "done",
      }),
    ).toBe(6);
    expect((await fetch(`http://127.0.0.1:${worker.port}/health/ready`)).status).toBe(200);
  });
});
