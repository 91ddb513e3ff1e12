// The REST API against real PostgreSQL and Redis: every endpoint, every error status of the
// contract, tenant isolation, token expiry, refresh rotation and reuse revocation.
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInProcess, type InProcessServer } from "./support/in-process.js";
import {
  appEnv,
  createAdminKey,
  createTestDatabase,
  TEST_SECRET_KEY,
  type TestDatabase,
} from "./support/services.js";
import { call, createTenant } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let server: InProcessServer;
let base: string;
let adminKey: string;
const api = "/api/v1";

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  server = await startInProcess(appEnv(db.url, { RATE_LIMIT_PER_MINUTE: "100000" }));
  base = server.url;
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

describe("health", () => {
  it("GET /health answers healthy with a timestamp and the version", async () => {
    const r = await call(base, "GET", "/health");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "healthy", version: "1.0.0" });
    expect(new Date(r.body.timestamp as string).toISOString()).toBe(r.body.timestamp);
  });

  it("GET /health/ready checks PostgreSQL, Redis, the Redis subscription and RabbitMQ", async () => {
    const r = await call(base, "GET", "/health/ready");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: "ready",
      checks: {
        postgres: { ok: true },
        redis: { ok: true },
        redis_subscription: { ok: true },
        rabbitmq: { ok: true },
      },
    });
  });
});

describe("clients", () => {
  it("an admin key creates, lists and reads clients; keys are shown only at creation", async () => {
    const created = await call(base, "POST", `${api}/clients`, {
      apiKey: adminKey,
      body: { name: "Acme", email: "ops@acme.example", is_admin: false },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "Acme", email: "ops@acme.example", is_admin: false });
    expect(created.body.api_key).toMatch(/^cak_[A-Za-z0-9_-]{43}$/);
    const list = await call<Array<Record<string, unknown>>>(base, "GET", `${api}/clients`, {
      apiKey: adminKey,
    });
    expect(list.status).toBe(200);
    expect(list.body.map((c) => c.email)).toContain("ops@acme.example");
    expect(list.body.every((c) => !("api_key" in c))).toBe(true);
    const one = await call(base, "GET", `${api}/clients/${created.body.id as string}`, { apiKey: adminKey });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      id: created.body.id,
      name: "Acme",
      email: "ops@acme.example",
      is_admin: false,
      created_at: created.body.created_at,
    });
    // The new key works (as a client key) and also as a bearer token.
    const asBearer = await call(base, "POST", `${api}/users`, {
      headers: { authorization: `Bearer ${created.body.api_key as string}` },
      body: { external_id: "u1", display_name: "U1" },
    });
    expect(asBearer.status).toBe(201);
  });

  it("409 for a second client with the same email (case-insensitive)", async () => {
    await call(base, "POST", `${api}/clients`, {
      apiKey: adminKey,
      body: { name: "Dup", email: "dup@example.com" },
    });
    const again = await call(base, "POST", `${api}/clients`, {
      apiKey: adminKey,
      body: { name: "Dup", email: "DUP@example.com" },
    });
    expect(again.status).toBe(409);
    expect(errorCode(again.body)).toBe("client_exists");
  });

  it("401 without a key or with a wrong one, 403 with a non-admin key", async () => {
    const none = await call(base, "GET", `${api}/clients`);
    expect(none.status).toBe(401);
    expect(errorCode(none.body)).toBe("missing_credentials");
    const wrong = await call(base, "GET", `${api}/clients`, { apiKey: "cak_not-a-real-key" });
    expect(wrong.status).toBe(401);
    expect(errorCode(wrong.body)).toBe("invalid_api_key");
    const tenant = await createTenant(base, adminKey, "nonadmin");
    const forbidden = await call(base, "GET", `${api}/clients`, { apiKey: tenant.apiKey });
    expect(forbidden.status).toBe(403);
    expect(errorCode(forbidden.body)).toBe("admin_required");
    const post = await call(base, "POST", `${api}/clients`, {
      apiKey: tenant.apiKey,
      body: { name: "x", email: "x@example.com" },
    });
    expect(post.status).toBe(403);
  });

  it("404 for an unknown client id and for an id that is not a UUID", async () => {
    expect(
      (await call(base, "GET", `${api}/clients/00000000-0000-4000-8000-000000000000`, { apiKey: adminKey }))
        .status,
    ).toBe(404);
    expect((await call(base, "GET", `${api}/clients/nope`, { apiKey: adminKey })).status).toBe(404);
  });

  it("422 names every invalid field", async () => {
    const r = await call(base, "POST", `${api}/clients`, {
      apiKey: adminKey,
      body: { name: "", email: "not-an-email", is_admin: "yes" },
    });
    expect(r.status).toBe(422);
    expect(errorCode(r.body)).toBe("validation_failed");
    const fields = (r.body as { error: { details: Array<{ field: string }> } }).error.details
      .map((d) => d.field)
      .sort();
    expect(fields).toEqual(["email", "is_admin", "name"]);
  });
});

describe("bad request bodies", () => {
  it("400 for malformed JSON, with the error envelope", async () => {
    const r = await call(base, "POST", `${api}/clients`, { apiKey: adminKey, rawBody: '{"name": "x", ' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: { code: "malformed_json", message: "the request body is not valid JSON" },
    });
  });

  it("400 for a body that is not JSON at all", async () => {
    const r = await call(base, "POST", `${api}/clients`, {
      apiKey: adminKey,
      rawBody: "name=x",
      headers: { "content-type": "text/plain" },
    });
    expect(r.status).toBe(400);
    expect(errorCode(r.body)).toBe("malformed_request");
  });

  it("413 for a body over 64 KB", async () => {
    const r = await call(base, "POST", `${api}/clients`, {
      apiKey: adminKey,
      body: { name: "x".repeat(70_000), email: "big@example.com" },
    });
    expect(r.status).toBe(413);
    expect(errorCode(r.body)).toBe("payload_too_large");
  });

  it("422 for JSON of the wrong type (array, string)", async () => {
    expect((await call(base, "POST", `${api}/clients`, { apiKey: adminKey, body: [1, 2] })).status).toBe(422);
    expect((await call(base, "POST", `${api}/clients`, { apiKey: adminKey, rawBody: '"text"' })).status).toBe(
      422,
    );
  });

  it("404 with the envelope for unknown routes", async () => {
    const r = await call(base, "GET", `${api}/nothing-here`);
    expect(r.status).toBe(404);
    expect(errorCode(r.body)).toBe("not_found");
  });
});

describe("users and tokens", () => {
  it("POST /users creates (201) and returns the same user for the same external_id (200)", async () => {
    const t = await createTenant(base, adminKey, "users");
    const first = await call(base, "POST", `${api}/users`, {
      apiKey: t.apiKey,
      body: { external_id: "ext-1", display_name: "Ada", email: "ada@example.com" },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ external_id: "ext-1", display_name: "Ada", email: "ada@example.com" });
    const again = await call(base, "POST", `${api}/users`, {
      apiKey: t.apiKey,
      body: { external_id: "ext-1", display_name: "Other" },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
  });

  it("a user token cannot be used where a client key is needed, and the reverse", async () => {
    const t = await createTenant(base, adminKey, "kinds");
    const u = await t.newUser("kind-user");
    const usersWithToken = await call(base, "POST", `${api}/users`, {
      token: u.token,
      body: { external_id: "x", display_name: "x" },
    });
    expect(usersWithToken.status).toBe(401);
    expect(errorCode(usersWithToken.body)).toBe("api_key_required");
    const roomsWithKey = await call(base, "GET", `${api}/rooms`, { apiKey: t.apiKey });
    expect(roomsWithKey.status).toBe(401);
    expect(errorCode(roomsWithKey.body)).toBe("user_token_required");
  });

  it("POST /auth/token returns a bearer pair; 404 for another tenant's user", async () => {
    const a = await createTenant(base, adminKey, "tok-a");
    const b = await createTenant(base, adminKey, "tok-b");
    const user = await a.newUser("alice");
    const pair = await call(base, "POST", `${api}/auth/token`, {
      apiKey: a.apiKey,
      body: { user_id: user.id },
    });
    expect(pair.status).toBe(200);
    expect(pair.body).toMatchObject({ token_type: "bearer", expires_in: 3600 });
    expect(String(pair.body.access_token).split(".")).toHaveLength(3);
    expect(String(pair.body.refresh_token)).toMatch(/^crt_/);
    const cross = await call(base, "POST", `${api}/auth/token`, {
      apiKey: b.apiKey,
      body: { user_id: user.id },
    });
    expect(cross.status).toBe(404);
    expect(errorCode(cross.body)).toBe("user_not_found");
  });

  it("an expired or forged access token is a 401", async () => {
    const t = await createTenant(base, adminKey, "expiry");
    const u = await t.newUser("late");
    const key = new TextEncoder().encode(TEST_SECRET_KEY);
    const expired = await new SignJWT({ cid: t.clientId, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(u.id)
      .setIssuer("chatapi")
      .setAudience("chatapi-api")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(key);
    const r = await call(base, "GET", `${api}/rooms`, { token: expired });
    expect(r.status).toBe(401);
    expect(errorCode(r.body)).toBe("token_expired");
    const forged = await new SignJWT({ cid: t.clientId, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(u.id)
      .setIssuer("chatapi")
      .setAudience("chatapi-api")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-key-that-is-long-enough!!"));
    const f = await call(base, "GET", `${api}/rooms`, { token: forged });
    expect(f.status).toBe(401);
    expect(errorCode(f.body)).toBe("invalid_token");
  });

  it("refresh rotates (single use) and reusing a spent token revokes the whole family", async () => {
    const t = await createTenant(base, adminKey, "refresh");
    const u = await t.newUser("rot");
    const first = await call<{ access_token: string; refresh_token: string }>(
      base,
      "POST",
      `${api}/auth/refresh`,
      {
        body: { refresh_token: u.refresh },
      },
    );
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(u.refresh);
    expect((await call(base, "GET", `${api}/rooms`, { token: first.body.access_token })).status).toBe(200);
    // The new token works once more...
    const second = await call<{ refresh_token: string }>(base, "POST", `${api}/auth/refresh`, {
      body: { refresh_token: first.body.refresh_token },
    });
    expect(second.status).toBe(200);
    // ...then someone replays the original one: reuse detected, family revoked.
    const replay = await call(base, "POST", `${api}/auth/refresh`, { body: { refresh_token: u.refresh } });
    expect(replay.status).toBe(401);
    expect(errorCode(replay.body)).toBe("refresh_token_reused");
    const latest = await call(base, "POST", `${api}/auth/refresh`, {
      body: { refresh_token: second.body.refresh_token },
    });
    expect(latest.status).toBe(401);
    expect(errorCode(latest.body)).toBe("refresh_token_revoked");
    // Another family of the same user is untouched.
    const other = await call(base, "POST", `${api}/auth/token`, {
      apiKey: t.apiKey,
      body: { user_id: u.id },
    });
    const fresh = await call(base, "POST", `${api}/auth/refresh`, {
      body: { refresh_token: other.body.refresh_token },
    });
    expect(fresh.status).toBe(200);
  });

  it("an unknown or expired refresh token is a 401", async () => {
    const unknown = await call(base, "POST", `${api}/auth/refresh`, {
      body: { refresh_token: "crt_unknown" },
    });
    expect(unknown.status).toBe(401);
    expect(errorCode(unknown.body)).toBe("invalid_refresh_token");
    const t = await createTenant(base, adminKey, "refresh-exp");
    const u = await t.newUser("old");
    const pg = await import("pg");
    const c = new pg.default.Client({ connectionString: db.url });
    await c.connect();
    await c.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [
      u.id,
    ]);
    await c.end();
    const expired = await call(base, "POST", `${api}/auth/refresh`, { body: { refresh_token: u.refresh } });
    expect(expired.status).toBe(401);
    expect(errorCode(expired.body)).toBe("refresh_token_expired");
  });
});

describe("rooms, members, messages", () => {
  it("creates rooms with members, lists them, adds and removes members", async () => {
    const t = await createTenant(base, adminKey, "rooms");
    const alice = await t.newUser("alice");
    const bob = await t.newUser("bob");
    const carol = await t.newUser("carol");
    const room = await call<{ id: string; member_ids: string[] }>(base, "POST", `${api}/rooms`, {
      token: alice.token,
      body: { name: "general", member_ids: [bob.id] },
    });
    expect(room.status).toBe(201);
    expect(room.body).toMatchObject({ name: "general", member_ids: [alice.id, bob.id], last_seq: 0 });
    const bobRooms = await call<Array<{ id: string }>>(base, "GET", `${api}/rooms`, {
      token: bob.token,
    });
    expect(bobRooms.body.map((r) => r.id)).toEqual([room.body.id]);
    expect((await call<unknown[]>(base, "GET", `${api}/rooms`, { token: carol.token })).body).toEqual([]);
    // Carol is not a member: the room does not exist for her.
    expect(
      (await call(base, "GET", `${api}/rooms/${room.body.id}/messages`, { token: carol.token })).status,
    ).toBe(404);
    const add = await call(base, "POST", `${api}/rooms/${room.body.id}/members`, {
      token: bob.token,
      body: { user_id: carol.id },
    });
    expect(add.status).toBe(204);
    expect(
      (
        await call(base, "POST", `${api}/rooms/${room.body.id}/members`, {
          token: bob.token,
          body: { user_id: carol.id },
        })
      ).status,
    ).toBe(204);
    expect(
      (await call(base, "GET", `${api}/rooms/${room.body.id}/messages`, { token: carol.token })).status,
    ).toBe(200);
    const del = await call(base, "DELETE", `${api}/rooms/${room.body.id}/members/${carol.id}`, {
      token: alice.token,
    });
    expect(del.status).toBe(204);
    const again = await call(base, "DELETE", `${api}/rooms/${room.body.id}/members/${carol.id}`, {
      token: alice.token,
    });
    expect(again.status).toBe(404);
    expect(errorCode(again.body)).toBe("member_not_found");
    expect(
      (await call(base, "GET", `${api}/rooms/${room.body.id}/messages`, { token: carol.token })).status,
    ).toBe(404);
  });

  it("404 for unknown member ids when creating a room or adding a member", async () => {
    const t = await createTenant(base, adminKey, "members404");
    const a = await t.newUser("a");
    const ghost = "00000000-0000-4000-8000-000000000001";
    const r = await call(base, "POST", `${api}/rooms`, {
      token: a.token,
      body: { name: "x", member_ids: [ghost] },
    });
    expect(r.status).toBe(404);
    expect(errorCode(r.body)).toBe("user_not_found");
    const room = await call<{ id: string }>(base, "POST", `${api}/rooms`, {
      token: a.token,
      body: { name: "y" },
    });
    expect(
      (
        await call(base, "POST", `${api}/rooms/${room.body.id}/members`, {
          token: a.token,
          body: { user_id: ghost },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await call(base, "POST", `${api}/rooms/${room.body.id}/members`, {
          token: a.token,
          body: { user_id: "nope" },
        })
      ).status,
    ).toBe(422);
  });

  it("messages get gapless per-room seqs; client_msg_id makes sends idempotent; history paginates", async () => {
    const t = await createTenant(base, adminKey, "msgs");
    const a = await t.newUser("a");
    const room = await call<{ id: string }>(base, "POST", `${api}/rooms`, {
      token: a.token,
      body: { name: "m" },
    });
    const path = `${api}/rooms/${room.body.id}/messages`;
    const sent = [];
    for (let i = 1; i <= 7; i++) {
      const r = await call(base, "POST", path, {
        token: a.token,
        body: { body: `hello ${i}`, client_msg_id: `c${i}` },
      });
      expect(r.status).toBe(201);
      sent.push(r.body);
    }
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Object.keys(sent[0]!).sort()).toEqual([
      "body",
      "client_msg_id",
      "created_at",
      "id",
      "room_id",
      "sender_id",
      "seq",
    ]);
    expect(sent[0]).toMatchObject({
      room_id: room.body.id,
      sender_id: a.id,
      body: "hello 1",
      client_msg_id: "c1",
    });
    const dup = await call(base, "POST", path, {
      token: a.token,
      body: { body: "different", client_msg_id: "c3" },
    });
    expect(dup.status).toBe(200);
    expect(dup.body).toEqual(sent[2]);
    const noId = await call(base, "POST", path, { token: a.token, body: { body: "no id" } });
    expect(noId.status).toBe(201);
    expect(noId.body).toMatchObject({ seq: 8, client_msg_id: null });

    const asc = await call<{ messages: Array<{ seq: number }> }>(base, "GET", `${path}?after_seq=2&limit=3`, {
      token: a.token,
    });
    expect(asc.body.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    const desc = await call<{ messages: Array<{ seq: number }> }>(
      base,
      "GET",
      `${path}?before_seq=5&limit=3`,
      { token: a.token },
    );
    expect(desc.body.messages.map((m) => m.seq)).toEqual([4, 3, 2]);
    const all = await call<{ messages: Array<{ seq: number }> }>(base, "GET", path, { token: a.token });
    expect(all.body.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // A page (JSON written by PostgreSQL) holds exactly what the sends answered, created_at
    // included to the millisecond, in the same form.
    expect(all.body.messages.slice(0, 7)).toEqual(sent);
    expect(all.body.messages[7]).toEqual(noId.body);
    expect(desc.body.messages[0]).toEqual(sent[3]);
    const rooms = await call<Array<{ last_seq: number }>>(base, "GET", `${api}/rooms`, {
      token: a.token,
    });
    expect(rooms.body[0]!.last_seq).toBe(8);
    // Membership is checked in the page's own query: an empty page still tells 404 from [].
    const past = await call<{ messages: unknown[] }>(base, "GET", `${path}?after_seq=8`, { token: a.token });
    expect(past.status).toBe(200);
    expect(past.body.messages).toEqual([]);
    const outsider = await t.newUser("outsider");
    for (const query of ["", "?after_seq=8", "?before_seq=5", "?before_seq=1"]) {
      const r = await call(base, "GET", `${path}${query}`, { token: outsider.token });
      expect([query, r.status]).toEqual([query, 404]);
    }
  });

  it("concurrent sends to one room still get gapless, unique seqs", async () => {
    const t = await createTenant(base, adminKey, "concurrent");
    const a = await t.newUser("a");
    const room = await call<{ id: string }>(base, "POST", `${api}/rooms`, {
      token: a.token,
      body: { name: "c" },
    });
    const path = `${api}/rooms/${room.body.id}/messages`;
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(base, "POST", path, { token: a.token, body: { body: `m${i}`, client_msg_id: `k${i % 30}` } }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(30);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    const history = await call<{ messages: Array<{ seq: number }> }>(base, "GET", `${path}?limit=200`, {
      token: a.token,
    });
    expect(history.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("422 for invalid message bodies and history queries", async () => {
    const t = await createTenant(base, adminKey, "m422");
    const a = await t.newUser("a");
    const room = await call<{ id: string }>(base, "POST", `${api}/rooms`, {
      token: a.token,
      body: { name: "v" },
    });
    const path = `${api}/rooms/${room.body.id}/messages`;
    for (const body of [
      { body: "" },
      { body: "x".repeat(4001) },
      { body: 42 },
      {},
      { body: "ok", client_msg_id: 7 },
    ]) {
      const r = await call(base, "POST", path, { token: a.token, body });
      expect(r.status, JSON.stringify(body)).toBe(422);
    }
    // 4000 characters is fine, also when they are astral (two UTF-16 units each).
    expect(
      (await call(base, "POST", path, { token: a.token, body: { body: "😀".repeat(4000) } })).status,
    ).toBe(201);
    for (const q of [
      "?limit=0",
      "?limit=201",
      "?after_seq=-1",
      "?after_seq=abc",
      "?after_seq=1&before_seq=5",
    ]) {
      expect((await call(base, "GET", `${path}${q}`, { token: a.token })).status, q).toBe(422);
    }
  });
});

describe("tenant isolation", () => {
  it("client B's users never see, join, read or write client A's rooms (404, never 403)", async () => {
    const a = await createTenant(base, adminKey, "iso-a");
    const b = await createTenant(base, adminKey, "iso-b");
    const alice = await a.newUser("alice");
    const mallory = await b.newUser("mallory");
    const room = await call<{ id: string }>(base, "POST", `${api}/rooms`, {
      token: alice.token,
      body: { name: "secret" },
    });
    await call(base, "POST", `${api}/rooms/${room.body.id}/messages`, {
      token: alice.token,
      body: { body: "private" },
    });
    const path = `${api}/rooms/${room.body.id}`;
    const attempts = [
      await call(base, "GET", `${path}/messages`, { token: mallory.token }),
      await call(base, "POST", `${path}/messages`, { token: mallory.token, body: { body: "hi" } }),
      await call(base, "POST", `${path}/members`, { token: mallory.token, body: { user_id: mallory.id } }),
      await call(base, "DELETE", `${path}/members/${alice.id}`, { token: mallory.token }),
    ];
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404]);
    expect((await call<unknown[]>(base, "GET", `${api}/rooms`, { token: mallory.token })).body).toEqual([]);
    // Alice cannot pull B's user into her room, nor create a room with them.
    expect(
      (await call(base, "POST", `${path}/members`, { token: alice.token, body: { user_id: mallory.id } }))
        .status,
    ).toBe(404);
    expect(
      (
        await call(base, "POST", `${api}/rooms`, {
          token: alice.token,
          body: { name: "x", member_ids: [mallory.id] },
        })
      ).status,
    ).toBe(404);
    // B's key cannot mint tokens for A's users, nor see them via POST /users.
    expect(
      (await call(base, "POST", `${api}/auth/token`, { apiKey: b.apiKey, body: { user_id: alice.id } }))
        .status,
    ).toBe(404);
    const sameExternal = await call(base, "POST", `${api}/users`, {
      apiKey: b.apiKey,
      body: { external_id: "alice", display_name: "B's alice" },
    });
    expect(sameExternal.status).toBe(201);
    expect(sameExternal.body.id).not.toBe(alice.id);
    // The message is still only Alice's, unchanged.
    const history = await call<{ messages: Array<{ body: string }> }>(base, "GET", `${path}/messages`, {
      token: alice.token,
    });
    expect(history.body.messages.map((m) => m.body)).toEqual(["private"]);
  });
});

describe("rate limit", () => {
  it("429 with Retry-After once a principal exceeds RATE_LIMIT_PER_MINUTE; others are unaffected", async () => {
    const limited = await startInProcess(appEnv(db.url, { RATE_LIMIT_PER_MINUTE: "5" }));
    try {
      const t = await createTenant(base, adminKey, "ratelimit");
      const u = await t.newUser("busy");
      const other = await t.newUser("calm");
      const statuses = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await call(limited.url, "GET", `${api}/rooms`, { token: u.token })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const r = await call(limited.url, "GET", `${api}/rooms`, { token: u.token });
      expect(r.status).toBe(429);
      expect(errorCode(r.body)).toBe("rate_limited");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await call(limited.url, "GET", `${api}/rooms`, { token: other.token })).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
