// PostgreSQL unreachable (the app reaches it through a loopback proxy that the test closes):
// REST answers 503 database_unavailable with Retry-After, never a 500; WebSocket sends get an
// error frame with the same code and the socket stays open; readiness says 503.
// (chaos/faults/postgres-restart.ts restarts a real cluster under load and checks recovery.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";
import { HoldingProxy } from "../../toolbox/tcp-proxy.js";
import { call, connect, createTenant } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let proxy: HoldingProxy;
let app: AppProcess;
let adminKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  const direct = new URL(db.url);
  proxy = await HoldingProxy.start(direct.hostname, Number(direct.port || 5432));
  const viaProxy = new URL(db.url);
  viaProxy.hostname = "127.0.0.1";
  viaProxy.port = String(proxy.port);
  app = await startAppProcess(appEnv(viaProxy.toString(), { RATE_LIMIT_PER_MINUTE: "1000000" }));
});

afterAll(async () => {
  await app?.stop();
  await proxy?.close().catch(() => undefined);
  await db?.drop();
});

describe("PostgreSQL unreachable", () => {
  it("answers 503 database_unavailable (REST and WebSocket), never 500", async () => {
    const t = await createTenant(app.url, adminKey, "dbdown");
    const user = await t.newUser("writer");
    const room = await call<{ id: string }>(app.url, "POST", "/api/v1/rooms", {
      token: user.token,
      body: { name: "outage" },
    });
    expect(room.status).toBe(201);
    const socket = await connect(app.url, user.token);

    await proxy.close(); // open connections drop, new ones are refused

    for (let attempt = 0; attempt < 3; attempt++) {
      const post = await call<{ error: { code: string; message: string } }>(
        app.url,
        "POST",
        `/api/v1/rooms/${room.body.id}/messages`,
        { token: user.token, body: { body: "while down", client_msg_id: `down-${attempt}` } },
      );
      expect(post.status, JSON.stringify(post.body)).toBe(503);
      expect(post.body.error.code).toBe("database_unavailable");
      expect(post.headers.get("retry-after")).toBe("1");
    }
    const list = await call(app.url, "GET", "/api/v1/rooms", { token: user.token });
    expect(list.status).toBe(503);
    const users = await call(app.url, "POST", "/api/v1/users", {
      apiKey: t.apiKey,
      body: { external_id: "later", display_name: "later" },
    });
    expect(users.status).toBe(503);

    const error = await socket.request(
      { type: "send", room_id: room.body.id, body: "ws while down", client_msg_id: "ws-down" },
      (f) => f.type === "error" || f.type === "ack",
    );
    expect(error).toMatchObject({ type: "error", code: "database_unavailable", ref: "ws-down" });
    const pong = await socket.request({ type: "ping" }, (f) => f.type === "pong");
    expect(pong.type).toBe("pong");

    const ready = await call<{ checks: Record<string, { ok: boolean }> }>(app.url, "GET", "/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.postgres?.ok).toBe(false);
    socket.close();
  });
});
