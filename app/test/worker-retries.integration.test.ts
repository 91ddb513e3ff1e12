// Failing jobs: retried with backoff through the delay queues, then dead-lettered with the
// error; a job no retry can fix (bad payload) goes to the dead-letter queue at once.
import amqp, { type GetMessage } from "amqplib";
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
import { mailTo } from "./support/mailpit.js";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import { createTestVhost, type TestVhost } from "./support/rabbitmq.js";
import { freePort } from "../../toolbox/processes.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";

let db: TestDatabase;
let vhost: TestVhost;
let pool: pg.Pool;
let api: AppProcess;
let worker: AppProcess;
let adminKey: string;

beforeAll(async () => {
  [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  adminKey = await createAdminKey(db.url);
  const apiEnv = appEnv(db.url, { RABBITMQ_URL: vhost.url });
  // Nothing listens on this port: every SMTP attempt fails with a connection error (transient).
  const deadSmtpPort = await freePort();
  [api, worker] = await Promise.all([
    startAppProcess(apiEnv),
    startAppProcess(
      workerEnv(apiEnv, {
        SMTP_PORT: String(deadSmtpPort),
        NOTIFICATION_BATCH_SECONDS: "0.2",
        WORKER_MAX_ATTEMPTS: "3",
        WORKER_RETRY_BASE_SECONDS: "0.3",
      }),
      ["worker"],
    ),
  ]);
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await pool?.end();
  await Promise.all([db?.drop(), vhost?.drop()]);
});

async function deadLetters(): Promise<GetMessage[]> {
  const connection = await amqp.connect(vhost.url);
  try {
    const channel = await connection.createChannel();
    const messages: GetMessage[] = [];
    for (;;) {
      const message = await channel.get("chatapi.jobs.dead", { noAck: false });
      if (!message) break;
      messages.push(message);
    }
    await channel.close(); // unacked: they stay in the queue
    return messages;
  } finally {
    await connection.close();
  }
}

describe("job failures", () => {
  it("retries a failing e-mail with growing delays, then dead-letters it with the error", async () => {
    const t = await mailTenant(api.url, adminKey, "retry");
    const alice = await t.user("Alice");
    const ivy = await t.user("Ivy");
    const roomId = await createRoomWith(api.url, alice, "Retries", [ivy.id]);
    const started = Date.now();
    await postMessage(api.url, alice, roomId, "will not be delivered");
    const labels = { type: "notification.digest" };
    await waitUntil(
      "the digest job to be dead-lettered",
      async () => (await metricValue(worker.port, "chatapi_jobs_dead_lettered_total", labels)) === 1,
    );
    // Attempts 1, 2, 3 with 0.3 s and 1.2 s of backoff between them.
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(await metricValue(worker.port, "chatapi_jobs_failed_total", labels)).toBe(3);
    expect(await metricValue(worker.port, "chatapi_jobs_retried_total", labels)).toBe(2);
    expect(await mailTo(ivy.email!)).toEqual([]);

    const dead = await deadLetters();
    const digest = dead.find((m) => m.properties.type === "notification.digest");
    expect(digest).toBeDefined();
    expect(digest!.properties.headers!["x-chatapi-attempt"]).toBe(3);
    expect(String(digest!.properties.headers!["x-chatapi-error"])).toMatch(/ECONNREFUSED|connect/i);
    expect(JSON.parse(digest!.content.toString())).toMatchObject({ type: "notification.digest" });
    // The claim was rolled back each time: nothing recorded as sent.
    const { rows } = await pool.query("SELECT 1 FROM email_deliveries WHERE recipient = $1", [ivy.email]);
    expect(rows).toEqual([]);
    const text = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    expect(text).toMatch(/chatapi_queue_messages\{queue="chatapi\.jobs\.dead"\} [1-9]/);
  });

  it("dead-letters a job with a bad payload on its first attempt", async () => {
    await pool.query(
      "INSERT INTO outbox (type, payload) VALUES ('message.posted', '{\"room_id\": \"not-a-uuid\"}')",
    );
    const labels = { type: "message.posted" };
    await waitUntil(
      "the bad job to be dead-lettered",
      async () => (await metricValue(worker.port, "chatapi_jobs_dead_lettered_total", labels)) === 1,
    );
    expect(await metricValue(worker.port, "chatapi_jobs_retried_total", labels)).toBe(0);
    const bad = (await deadLetters()).find((m) => m.properties.type === "message.posted");
    expect(bad!.properties.headers!["x-chatapi-attempt"]).toBe(1);
    expect(String(bad!.properties.headers!["x-chatapi-error"])).toContain("bad message.posted payload");
  });
});
