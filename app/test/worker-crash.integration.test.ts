// A worker that dies, or is stopped, in the middle of sending an e-mail: the job goes back to
// the queue, the next worker does it, and the recipient still gets exactly one e-mail. A proxy in
// front of the SMTP sink holds the conversation so the test can act at that moment.
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
import { createTestVhost, type TestVhost } from "./support/rabbitmq.js";
import {
  appEnv,
  createAdminKey,
  createTestDatabase,
  required,
  type TestDatabase,
} from "./support/services.js";
import { HoldingProxy } from "../../toolbox/tcp-proxy.js";

let db: TestDatabase;
let vhost: TestVhost;
let pool: pg.Pool;
let api: AppProcess;
let proxy: HoldingProxy;
let adminKey: string;
let env: Record<string, string>;
const workers: AppProcess[] = [];

beforeAll(async () => {
  [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  adminKey = await createAdminKey(db.url);
  const apiEnv = appEnv(db.url, { RABBITMQ_URL: vhost.url });
  api = await startAppProcess(apiEnv);
  proxy = await HoldingProxy.start(
    required("CHATAPI_TEST_SMTP_HOST"),
    Number(required("CHATAPI_TEST_SMTP_PORT")),
  );
  env = workerEnv(apiEnv, {
    SMTP_PORT: String(proxy.port),
    NOTIFICATION_BATCH_SECONDS: "0.5",
    WORKER_SHUTDOWN_TIMEOUT_SECONDS: "1",
  });
});

afterAll(async () => {
  proxy?.release();
  await Promise.all([api?.stop(), ...workers.map((w) => w.stop("SIGKILL"))]);
  await proxy?.close();
  await pool?.end();
  await Promise.all([db?.drop(), vhost?.drop()]);
});

async function startWorker(name: string): Promise<AppProcess> {
  const worker = await startAppProcess({ ...env, INSTANCE_NAME: name }, ["worker"]);
  workers.push(worker);
  return worker;
}

async function batchStatus(userId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ status: string }>(
    "SELECT status FROM notification_batches WHERE user_id = $1",
    [userId],
  );
  return rows[0]?.status;
}

async function deliveriesTo(address: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM email_deliveries WHERE recipient = $1",
    [address],
  );
  return rows[0]!.n;
}

describe("a worker interrupted mid-job", () => {
  it("killed with SIGKILL while talking to SMTP: the job is redone by the next worker, one e-mail", async () => {
    const t = await mailTenant(api.url, adminKey, "crash");
    const alice = await t.user("Alice");
    const gina = await t.user("Gina");
    const roomId = await createRoomWith(api.url, alice, "Incidents", [gina.id]);
    const first = await startWorker("worker-killed");

    proxy.hold();
    await postMessage(api.url, alice, roomId, "database failover at 03:00");
    await waitUntil(
      "the worker to be in the middle of the SMTP conversation",
      async () => proxy.heldCount > 0 && (await batchStatus(gina.id)) === "sending",
    );
    first.signal("SIGKILL");
    expect(await first.exited).toBe(null); // killed by the signal
    proxy.release();
    await new Promise((r) => setTimeout(r, 500));
    expect(await mailTo(gina.email!)).toEqual([]); // the dead worker's claim was rolled back
    expect(await deliveriesTo(gina.email!)).toBe(0);

    const second = await startWorker("worker-after-crash");
    await waitForMail(gina.email!, 1);
    await waitUntil("the batch to be marked sent", async () => (await batchStatus(gina.id)) === "sent");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await mailTo(gina.email!)).toHaveLength(1);
    expect(await deliveriesTo(gina.email!)).toBe(1);
    expect(
      await metricValue(second.port, "chatapi_jobs_done_total", {
        type: "notification.digest",
        outcome: "done",
      }),
    ).toBe(1);
    expect(await second.stop("SIGTERM")).toBe(0);
  });

  it("stopped with SIGTERM while a job is stuck: it returns the job and exits 0; the next worker sends it once", async () => {
    const t = await mailTenant(api.url, adminKey, "term");
    const alice = await t.user("Alice");
    const hank = await t.user("Hank");
    const roomId = await createRoomWith(api.url, alice, "Releases", [hank.id]);
    const stopping = await startWorker("worker-stopped");

    proxy.hold();
    await postMessage(api.url, alice, roomId, "release 2.4 is out");
    await waitUntil(
      "the worker to be in the middle of the SMTP conversation",
      async () => proxy.heldCount > 0 && (await batchStatus(hank.id)) === "sending",
    );
    const started = Date.now();
    expect(await stopping.stop("SIGTERM")).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const log = stopping.output.join("\n");
    expect(log).toContain("jobs finished or returned to the queue");
    expect(log).toMatch(/"returned":1/);
    proxy.release();
    await new Promise((r) => setTimeout(r, 500));
    expect(await deliveriesTo(hank.email!)).toBe(0);

    await startWorker("worker-after-stop");
    await waitForMail(hank.email!, 1);
    await waitUntil("the batch to be marked sent", async () => (await batchStatus(hank.id)) === "sent");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await mailTo(hank.email!)).toHaveLength(1);
    expect(await deliveriesTo(hank.email!)).toBe(1);
  });
});
