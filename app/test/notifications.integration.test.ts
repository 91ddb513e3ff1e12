// E-mail notifications end to end: `chatapi serve` writes the outbox with the messages, a
// `chatapi worker` relays it to RabbitMQ (own vhost), batches per (user, room) and mails through
// the SMTP sink (Mailpit), filtered by recipient addresses unique to this file.
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
import { mailDetail, mailTo, waitForMail } from "./support/mailpit.js";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import { createTestVhost, type TestVhost } from "./support/rabbitmq.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";
import { connect } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let vhost: TestVhost;
let pool: pg.Pool;
let api: AppProcess;
let worker: AppProcess;
let workerPort: number;
let adminKey: string;

beforeAll(async () => {
  [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  adminKey = await createAdminKey(db.url);
  const env = appEnv(db.url, { RABBITMQ_URL: vhost.url, RATE_LIMIT_PER_MINUTE: "1000000" });
  [api, worker] = await Promise.all([
    startAppProcess(env),
    startAppProcess(workerEnv(env, { INSTANCE_NAME: "worker-1" }), ["worker"]),
  ]);
  workerPort = worker.port;
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await pool?.end();
  await Promise.all([db?.drop(), vhost?.drop()]);
});

/** True once every outbox row is relayed and every message.posted job has run. */
async function settled(): Promise<boolean> {
  const { rows } = await pool.query<{ outbox: number; runs: number; batches_open: number }>(
    `SELECT (SELECT count(*) FROM outbox)::int AS outbox,
            (SELECT count(*) FROM job_runs)::int AS runs,
            (SELECT count(*) FROM notification_batches WHERE status IN ('pending', 'sending'))::int AS batches_open`,
  );
  return rows[0]!.outbox === 0 && rows[0]!.batches_open === 0;
}

describe("e-mail notifications", () => {
  it("mails an offline member exactly once with the right content; online members and members without an address get none", async () => {
    const t = await mailTenant(api.url, adminKey, "notify");
    const alice = await t.user("Alice");
    const bob = await t.user("Bob"); // offline, has an address
    const carol = await t.user("Carol"); // online
    const dave = await t.user("Dave", false); // offline, no address
    const roomId = await createRoomWith(api.url, alice, "Design Review", [bob.id, carol.id, dave.id]);
    const carolSocket = await connect(api.url, carol.token);

    const { rows: before } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM job_runs");
    await postMessage(api.url, alice, roomId, "The mock-ups are ready for review <b>today</b>");

    const [mail] = await waitForMail(bob.email!, 1);
    // Everything downstream of the message has run: the outbox is empty, the job is recorded.
    await waitUntil("the message.posted job to run", async () => {
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM job_runs");
      return rows[0]!.n > before[0]!.n && (await settled());
    });
    const detail = await mailDetail(mail!.ID);
    expect(detail.To).toEqual([{ Name: "Bob", Address: bob.email }]);
    expect(detail.From.Address).toBe("notifications@chatapi.test");
    expect(detail.Subject).toBe("1 new message in Design Review");
    expect(detail.Text).toContain("Hello Bob,");
    expect(detail.Text).toContain("Alice (");
    expect(detail.Text).toContain("The mock-ups are ready for review <b>today</b>");
    expect(detail.MessageID).toMatch(/^digest\.[0-9a-f-]{36}@chatapi\.test$/);

    expect(await mailTo(carol.email!)).toEqual([]);
    expect(await mailTo(alice.email!)).toEqual([]); // the sender is never notified
    const { rows: batches } = await pool.query<{ user_id: string; status: string }>(
      "SELECT user_id, status FROM notification_batches WHERE room_id = $1",
      [roomId],
    );
    expect(batches).toEqual([{ user_id: bob.id, status: "sent" }]);
    const { rows: deliveries } = await pool.query(
      "SELECT recipient, subject FROM email_deliveries WHERE recipient = $1",
      [bob.email],
    );
    expect(deliveries).toEqual([{ recipient: bob.email, subject: "1 new message in Design Review" }]);
    // Still exactly one after the batching window has long passed.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await mailTo(bob.email!)).toHaveLength(1);
    carolSocket.close();
  });

  it("turns a burst of messages into one e-mail that lists them", async () => {
    const t = await mailTenant(api.url, adminKey, "burst");
    const alice = await t.user("Alice");
    const erin = await t.user("Erin");
    const roomId = await createRoomWith(api.url, alice, "Launch", [erin.id]);
    for (let i = 1; i <= 12; i++) await postMessage(api.url, alice, roomId, `burst message ${i}`);

    const [mail] = await waitForMail(erin.email!, 1);
    await waitUntil("the burst to settle", settled);
    await new Promise((r) => setTimeout(r, 2500)); // a second batch would have been mailed by now
    expect(await mailTo(erin.email!)).toHaveLength(1);
    const detail = await mailDetail(mail!.ID);
    expect(detail.Subject).toBe("12 new messages in Launch");
    const text = detail.Text.replace(/\r\n/g, "\n");
    expect(text).toContain("burst message 1\n");
    expect(text).toContain("burst message 10\n");
    expect(text).not.toContain("burst message 11");
    expect(text).toContain("…and 2 more.");
  });

  it("mails again for messages after the previous e-mail went out (a new batch)", async () => {
    const t = await mailTenant(api.url, adminKey, "again");
    const alice = await t.user("Alice");
    const frank = await t.user("Frank");
    const roomId = await createRoomWith(api.url, alice, "Ops", [frank.id]);
    await postMessage(api.url, alice, roomId, "first");
    await waitForMail(frank.email!, 1);
    await postMessage(api.url, alice, roomId, "second");
    const mails = await waitForMail(frank.email!, 2);
    expect(mails.map((m) => m.Subject).sort()).toEqual(["1 new message in Ops", "1 new message in Ops"]);
    const texts = await Promise.all(mails.map(async (m) => (await mailDetail(m.ID)).Text));
    expect(texts.filter((text) => text.includes("first"))).toHaveLength(1);
    expect(texts.filter((text) => text.includes("second"))).toHaveLength(1);
  });

  it("serves health, readiness and metrics of the worker", async () => {
    const health = await fetch(`http://127.0.0.1:${workerPort}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${workerPort}/health/ready`);
    expect(ready.status).toBe(200);
    // The four e-mails of the tests above: Mailpit holds each one as soon as the SMTP DATA is
    // accepted, a moment before the worker's send resolves and counts it (seen under load).
    const counted = async (metric: string, labels?: Record<string, string>) => {
      const value = await metricValue(workerPort, metric, labels);
      return value >= 4 ? value : undefined;
    };
    expect(
      await waitUntil("4 e-mails counted", () => counted("chatapi_emails_sent_total"), 10_000),
    ).toBeGreaterThanOrEqual(4);
    expect(
      await waitUntil(
        "4 digest jobs counted",
        () => counted("chatapi_jobs_done_total", { type: "notification.digest", outcome: "done" }),
        10_000,
      ),
    ).toBeGreaterThanOrEqual(4);
    expect(await metricValue(workerPort, "chatapi_outbox_published_total")).toBeGreaterThan(0);
    const text = await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text();
    expect(text).toMatch(/chatapi_queue_messages\{queue="chatapi\.jobs"\} \d+/);
    expect(text).toMatch(/chatapi_queue_messages\{queue="chatapi\.jobs\.dead"\} 0/);
    expect(text).toMatch(/chatapi_outbox_oldest_age_seconds \d/);
    expect(text).toContain("chatapi_job_lag_seconds_bucket");
  });
});
