// Redis (a private redis-server, not the shared one) dies and comes back while messages flow
// between two instances: nothing is lost or duplicated, and readiness reports the dead
// subscription meanwhile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue } from "./support/jobs.js";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import { PrivateRedis } from "../../toolbox/private-services.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";
import { call, connect, createTenant, range, seqs } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let redis: PrivateRedis;
let a: AppProcess;
let b: AppProcess;
let adminKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  redis = await PrivateRedis.start();
  const env = appEnv(db.url, { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: "1000000" });
  [a, b] = await Promise.all([
    startAppProcess({ ...env, INSTANCE_NAME: "redis-a" }),
    startAppProcess({ ...env, INSTANCE_NAME: "redis-b" }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.dispose();
  await db?.drop();
});

async function readiness(url: string) {
  const r = await call<{ checks: Record<string, { ok: boolean }> }>(url, "GET", "/health/ready");
  return { status: r.status, subscription: r.body.checks.redis_subscription?.ok };
}

/** Polls (bounded) until the condition holds. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("Redis restarted mid-stream", () => {
  it("subscribers on the other instance get every message exactly once, in order", async () => {
    const t = await createTenant(a.url, adminKey, "redis");
    const sender = await t.newUser("sender");
    const reader = await t.newUser("reader");
    const room = await call<{ id: string }>(a.url, "POST", "/api/v1/rooms", {
      token: sender.token,
      body: { name: "restart", member_ids: [reader.id] },
    });
    const roomId = room.body.id;
    const onA = await connect(a.url, reader.token);
    await onA.request({ type: "subscribe", room_id: roomId, after_seq: 0 }, (f) => f.type === "subscribed");
    const onB = await connect(b.url, sender.token);
    await onB.request({ type: "subscribe", room_id: roomId, after_seq: 0 }, (f) => f.type === "subscribed");
    expect(await readiness(a.url)).toEqual({ status: 200, subscription: true });
    // What ChatAPIRedisSubscriptionLost and ChatAPIFanoutPublishFailures alert on.
    expect(await metricValue(a.port, "chatapi_fanout_subscription_up")).toBe(1);
    const publishFailuresBefore = await metricValue(b.port, "chatapi_fanout_publish_failures_total");

    let n = 0;
    const send = async () => {
      n++;
      const id = `m${n}`;
      await onB.request(
        { type: "send", room_id: roomId, body: `message ${n}`, client_msg_id: id },
        (f) => f.type === "ack" && f.client_msg_id === id,
      );
    };
    for (let i = 0; i < 40; i++) await send();
    await onA.waitForAll((f) => f.type === "message", 40);

    await redis.kill();
    // Sends keep working (PostgreSQL is the source of truth); fan-out to A is cut.
    for (let i = 0; i < 40; i++) await send();
    await eventually(
      async () => (await readiness(a.url)).status === 503,
      "instance A reports its subscription down",
    );
    expect((await readiness(a.url)).subscription).toBe(false);
    expect(await metricValue(a.port, "chatapi_fanout_subscription_up")).toBe(0);
    expect(await metricValue(b.port, "chatapi_fanout_publish_failures_total")).toBeGreaterThan(
      publishFailuresBefore,
    );
    for (let i = 0; i < 20; i++) await send();

    await redis.startProcess();
    await eventually(async () => (await readiness(a.url)).status === 200, "instance A ready again");
    expect(await metricValue(a.port, "chatapi_fanout_subscription_up")).toBe(1);
    for (let i = 0; i < 40; i++) await send();

    const total = n;
    expect(total).toBe(140);
    await onA.waitForAll((f) => f.type === "message", total, 60_000);
    expect(seqs(onA.messages(roomId))).toEqual(range(1, total));
    expect(onA.messages(roomId).map((m) => m.body)).toEqual(range(1, total).map((i) => `message ${i}`));
    await onB.waitForAll((f) => f.type === "message", total);
    expect(seqs(onB.messages(roomId))).toEqual(range(1, total));
    // A caught up through PostgreSQL after re-subscribing (not by luck of timing).
    expect(a.output.join("\n")).toContain("redis subscription restored; catching up from PostgreSQL");
    // Neither socket was dropped: the outage was invisible to clients except for latency.
    expect(onA.closeCode).toBeUndefined();
    expect(onB.closeCode).toBeUndefined();
    onA.close();
    onB.close();
  });

  it("a stalled Redis (SIGSTOP) does not stall REST requests: the rate limit passes, the send is stored", async () => {
    const t = await createTenant(a.url, adminKey, "stall");
    const user = await t.newUser("writer");
    const room = await call<{ id: string }>(a.url, "POST", "/api/v1/rooms", {
      token: user.token,
      body: { name: "stall" },
    });
    redis.signal("SIGSTOP");
    try {
      // A hang guard, not a speed target: before the fix the request waited for the whole stall.
      const response = await fetch(`${a.url}/api/v1/rooms/${room.body.id}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ body: "while Redis is stalled", client_msg_id: "stalled-1" }),
        signal: AbortSignal.timeout(8000),
      });
      expect(response.status).toBe(201);
    } finally {
      redis.signal("SIGCONT");
    }
    await eventually(async () => (await readiness(a.url)).status === 200, "instance A ready after the stall");
  });
});
