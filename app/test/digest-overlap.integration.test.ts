// message.posted jobs run concurrently, so after a backlog (e.g. a RabbitMQ outage) a late job
// can open a new batch whose range reaches back into a batch that was already mailed. The digest
// of the newer batch must mail only what no older batch covered (chaos/faults/rabbitmq-outage
// caught messages mailed twice). Real PostgreSQL, the real handler, real SMTP (Mailpit).
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationDigestHandler } from "../src/jobs/handlers/notification-digest.js";
import { Mailer } from "../src/jobs/mailer.js";
import { mailDetail, waitForMail } from "./support/mailpit.js";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import {
  appEnv,
  createAdminKey,
  createTestDatabase,
  required,
  type TestDatabase,
  uniqueSuffix,
} from "./support/services.js";
import { call } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let app: AppProcess;
let pool: pg.Pool;
let redis: Redis;
let mailer: Mailer;
let adminKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  app = await startAppProcess(appEnv(db.url));
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  redis = new Redis(required("CHATAPI_TEST_REDIS_URL"));
  mailer = new Mailer({
    host: required("CHATAPI_TEST_SMTP_HOST"),
    port: Number(required("CHATAPI_TEST_SMTP_PORT")),
    from: "notifications@chatapi.test",
    fromName: "ChatAPI",
    maxConnections: 1,
  });
});

afterAll(async () => {
  await app?.stop();
  await pool?.end();
  redis?.disconnect();
  await db?.drop();
});

describe("digest of a batch that overlaps an earlier one", () => {
  it("mails only the messages no earlier batch covered, and skips a batch that has none left", async () => {
    const client = await call<{ api_key: string }>(app.url, "POST", "/api/v1/clients", {
      apiKey: adminKey,
      body: { name: "overlap", email: `overlap-${uniqueSuffix()}@example.com` },
    });
    const apiKey = client.body.api_key;
    const address = `reader-${uniqueSuffix()}@mail.chatapi.test`;
    const user = async (name: string, email?: string) => {
      const u = await call<{ id: string }>(app.url, "POST", "/api/v1/users", {
        apiKey,
        body: { external_id: name, display_name: name, ...(email ? { email } : {}) },
      });
      const t = await call<{ access_token: string }>(app.url, "POST", "/api/v1/auth/token", {
        apiKey,
        body: { user_id: u.body.id },
      });
      return { id: u.body.id, token: t.body.access_token };
    };
    const sender = await user("sender");
    const reader = await user("reader", address);
    const room = await call<{ id: string }>(app.url, "POST", "/api/v1/rooms", {
      token: sender.token,
      body: { name: "overlap", member_ids: [reader.id] },
    });
    for (let n = 1; n <= 6; n++) {
      const posted = await call(app.url, "POST", `/api/v1/rooms/${room.body.id}/messages`, {
        token: sender.token,
        body: { body: `message number ${n}` },
      });
      expect(posted.status).toBe(201);
    }
    // An older batch already mailed 1..4; a late job opened a newer one over 3..6; another late
    // one opened a batch inside the mailed range.
    const insert = (first: number, last: number, status: string) =>
      pool
        .query<{ id: string }>(
          `INSERT INTO notification_batches (user_id, room_id, first_seq, last_seq, message_count, status)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
          [reader.id, room.body.id, first, last, last - first + 1, status],
        )
        .then((r) => r.rows[0]!.id);
    await insert(1, 4, "sent");
    const overlapping = await insert(3, 6, "pending");
    const handler = notificationDigestHandler({
      pool,
      redis,
      redisPrefix: `chatapi-test-${uniqueSuffix()}:`,
      mailer,
      projectName: "ChatAPI",
    });
    const job = (batchId: string) => ({
      id: randomUUID(),
      type: "notification.digest",
      payload: { batch_id: batchId },
      createdAt: Date.now(),
      attempt: 1,
    });
    expect(await handler(job(overlapping))).toBe("done");
    const [mail] = await waitForMail(address, 1);
    const text = (await mailDetail(mail!.ID)).Text;
    expect(text).toContain("message number 5");
    expect(text).toContain("message number 6");
    expect(text).not.toContain("message number 3");
    expect(text).not.toContain("message number 4");
    const { rows } = await pool.query<{ message_count: number; status: string }>(
      "SELECT message_count, status FROM notification_batches WHERE id = $1",
      [overlapping],
    );
    expect(rows[0]).toEqual({ message_count: 2, status: "sent" });

    const inside = await insert(2, 6, "pending");
    expect(await handler(job(inside))).toBe("skipped");
    const skipped = await pool.query<{ status: string; detail: string }>(
      "SELECT status, detail FROM notification_batches WHERE id = $1",
      [inside],
    );
    expect(skipped.rows[0]).toEqual({
      status: "skipped",
      detail: "messages are gone or were in an earlier digest",
    });
    expect(await waitForMail(address, 1)).toHaveLength(1);
  });
});
