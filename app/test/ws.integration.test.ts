// The WebSocket endpoint against real PostgreSQL and Redis: every frame type, errors that keep
// the connection open, and the limits (frame size, rate, heartbeat, slow consumers).
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
import { call, connect, createTenant, type Frame, openUrl, range, seqs } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let server: InProcessServer;
/** Same database, tight limits: 20 frames/s, 200 ms heartbeat. */
let strict: InProcessServer;
/** Same database, a 256 KB send-buffer cap for slow consumers. */
let small: InProcessServer;
let adminKey: string;
const api = "/api/v1";

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  server = await startInProcess(
    appEnv(db.url, { INSTANCE_NAME: "ws-test-a", RATE_LIMIT_PER_MINUTE: "1000000" }),
  );
  strict = await startInProcess(
    appEnv(db.url, {
      INSTANCE_NAME: "ws-test-strict",
      WS_SEND_RATE_PER_SECOND: "20",
      WS_HEARTBEAT_SECONDS: "0.2",
      RATE_LIMIT_PER_MINUTE: "1000000",
    }),
  );
  small = await startInProcess(
    appEnv(db.url, { WS_MAX_BUFFERED_BYTES: "262144", RATE_LIMIT_PER_MINUTE: "1000000" }),
  );
});

afterAll(async () => {
  await server?.stop();
  await strict?.stop();
  await small?.stop();
  await db?.drop();
});

async function roomWith(base: string, label: string, members = 2) {
  const t = await createTenant(base, adminKey, label);
  const users = [];
  for (let i = 0; i < members; i++) users.push(await t.newUser(`${label}-u${i}`));
  const room = await call<{ id: string }>(base, "POST", `${api}/rooms`, {
    token: users[0]!.token,
    body: { name: label, member_ids: users.slice(1).map((u) => u.id) },
  });
  return { tenant: t, users, roomId: room.body.id };
}

const sendRest = (base: string, token: string, roomId: string, body: string, clientMsgId?: string) =>
  call<{ seq: number }>(base, "POST", `${api}/rooms/${roomId}/messages`, {
    token,
    body: { body, ...(clientMsgId ? { client_msg_id: clientMsgId } : {}) },
  });

describe("connecting", () => {
  it("sends ready with the user id and the instance name; the token may come as a header", async () => {
    const { users } = await roomWith(server.url, "ready", 1);
    const s = await connect(server.url, users[0]!.token);
    expect(s.frames[0]).toEqual({ type: "ready", user_id: users[0]!.id, instance: "ws-test-a" });
    // The client offered permessage-deflate (ws does by default); the server declined it.
    expect(s.ws.extensions).toBe("");
    s.close();
    const viaHeader = await openUrl(`${server.url.replace("http", "ws")}/ws`, {
      headers: { authorization: `Bearer ${users[0]!.token}` },
    });
    expect((await viaHeader.waitFor((f) => f.type === "ready")).user_id).toBe(users[0]!.id);
    viaHeader.close();
  });

  it("closes with 4001 for a missing, invalid or expired token", async () => {
    const ws = server.url.replace("http", "ws");
    for (const url of [`${ws}/ws`, `${ws}/ws?token=garbage`, `${ws}/ws?token=a.b.c`]) {
      const s = await openUrl(url);
      expect(await s.closed).toBe(4001);
    }
    const { users, tenant } = await roomWith(server.url, "expired", 1);
    const expired = await new SignJWT({ cid: tenant.clientId, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(users[0]!.id)
      .setIssuer("chatapi")
      .setAudience("chatapi-api")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(TEST_SECRET_KEY));
    const s = await openUrl(`${ws}/ws?token=${expired}`);
    expect(await s.closed).toBe(4001);
    expect(s.closeReason).toBe("token_expired");
  });

  it("closes with 4001 when the token expires during the connection", async () => {
    const { users, tenant } = await roomWith(strict.url, "expiring", 1);
    const soon = await new SignJWT({ cid: tenant.clientId, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(users[0]!.id)
      .setIssuer("chatapi")
      .setAudience("chatapi-api")
      // 2–3 s from now: connecting on a loaded machine must not outlast the token.
      .setExpirationTime(Math.floor(Date.now() / 1000) + 3)
      .sign(new TextEncoder().encode(TEST_SECRET_KEY));
    const s = await connect(strict.url, soon);
    expect(await s.closed).toBe(4001);
  });

  it("answers 404 for other upgrade paths", async () => {
    await expect(openUrl(`${server.url.replace("http", "ws")}/other`)).rejects.toThrow(/404/);
  });
});

describe("frames", () => {
  it("ping → pong", async () => {
    const { users } = await roomWith(server.url, "ping", 1);
    const s = await connect(server.url, users[0]!.token);
    expect(await s.request({ type: "ping" }, (f) => f.type === "pong")).toEqual({ type: "pong" });
    s.close();
  });

  it("subscribe replays after after_seq, then delivers live messages; unsubscribe stops them", async () => {
    const { users, roomId } = await roomWith(server.url, "replay");
    const [alice, bob] = users as [(typeof users)[0], (typeof users)[0]];
    for (let i = 1; i <= 5; i++) await sendRest(server.url, alice.token, roomId, `m${i}`);
    const s = await connect(server.url, bob.token);
    const subscribed = await s.request(
      { type: "subscribe", room_id: roomId, after_seq: 2 },
      (f) => f.type === "subscribed",
    );
    expect(subscribed).toEqual({ type: "subscribed", room_id: roomId, last_seq: 5 });
    await s.waitForAll((f) => f.type === "message", 3);
    await sendRest(server.url, alice.token, roomId, "m6");
    await s.waitForAll((f) => f.type === "message", 4);
    expect(seqs(s.messages(roomId))).toEqual([3, 4, 5, 6]);
    expect(s.messages(roomId)[3]).toMatchObject({ body: "m6", sender_id: alice.id, room_id: roomId, seq: 6 });
    // subscribed comes before the replay
    const types = s.frames.map((f) => f.type);
    expect(types.indexOf("subscribed")).toBeLessThan(types.indexOf("message"));
    expect(
      await s.request({ type: "unsubscribe", room_id: roomId }, (f) => f.type === "unsubscribed"),
    ).toEqual({
      type: "unsubscribed",
      room_id: roomId,
    });
    await sendRest(server.url, alice.token, roomId, "m7");
    await s.request({ type: "ping" }, (f) => f.type === "pong"); // m7 would have arrived before this
    expect(seqs(s.messages(roomId))).toEqual([3, 4, 5, 6]);
    s.close();
  });

  it("subscribe without after_seq gets only new messages", async () => {
    const { users, roomId } = await roomWith(server.url, "live-only");
    await sendRest(server.url, users[0]!.token, roomId, "old");
    const s = await connect(server.url, users[1]!.token);
    await s.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "subscribed");
    await sendRest(server.url, users[0]!.token, roomId, "new");
    await s.waitFor((f) => f.type === "message");
    expect(s.messages(roomId).map((m) => m.body)).toEqual(["new"]);
    s.close();
  });

  it("send is acked with the stored message and reaches every subscriber once; a repeated client_msg_id is acked again but not re-delivered", async () => {
    const { users, roomId } = await roomWith(server.url, "send", 3);
    const sockets = await Promise.all(users.map((u) => connect(server.url, u.token)));
    for (const s of sockets)
      await s.request({ type: "subscribe", room_id: roomId, after_seq: 0 }, (f) => f.type === "subscribed");
    const sender = sockets[0]!;
    const ack = await sender.request(
      { type: "send", room_id: roomId, body: "hello", client_msg_id: "c-1" },
      (f) => f.type === "ack",
    );
    expect(ack).toMatchObject({
      type: "ack",
      client_msg_id: "c-1",
      message: { seq: 1, body: "hello", room_id: roomId, sender_id: users[0]!.id, client_msg_id: "c-1" },
    });
    const again = await sender.request(
      { type: "send", room_id: roomId, body: "hello", client_msg_id: "c-1" },
      (f) => f.type === "ack",
    );
    expect(again.message).toEqual(ack.message);
    await sender.request(
      { type: "send", room_id: roomId, body: "second", client_msg_id: "c-2" },
      (f) => f.type === "ack",
    );
    for (const s of sockets) {
      await s.waitForAll((f) => f.type === "message", 2);
      expect(seqs(s.messages(roomId))).toEqual([1, 2]);
    }
    // The message is in PostgreSQL by the time of the ack.
    const history = await call<{ messages: Array<{ body: string }> }>(
      server.url,
      "GET",
      `${api}/rooms/${roomId}/messages`,
      { token: users[1]!.token },
    );
    expect(history.body.messages.map((m) => m.body)).toEqual(["hello", "second"]);
    for (const s of sockets) s.close();
  });

  it("a subscriber joining while messages stream in gets every one exactly once, in order", async () => {
    const { users, roomId } = await roomWith(server.url, "seam");
    const total = 120;
    const sender = await connect(server.url, users[0]!.token);
    let sent = 0;
    const sending = (async () => {
      while (sent < total) {
        sent++;
        await sender.request(
          { type: "send", room_id: roomId, body: `n${sent}`, client_msg_id: `s${sent}` },
          (f) => f.type === "ack" && f.client_msg_id === `s${sent}`,
        );
      }
    })();
    while (sent < 30) await new Promise((r) => setTimeout(r, 5));
    const late = await connect(server.url, users[1]!.token);
    late.send({ type: "subscribe", room_id: roomId, after_seq: 0 });
    await sending;
    await late.waitForAll((f) => f.type === "message", total);
    expect(seqs(late.messages(roomId))).toEqual(range(1, total));
    sender.close();
    late.close();
  });

  it("errors name the problem, echo the ref, and leave the connection open", async () => {
    const { users, roomId } = await roomWith(server.url, "errors", 1);
    const other = await roomWith(server.url, "errors-other", 1);
    const s = await connect(server.url, users[0]!.token);
    expect(await s.request("{not json" as never, (f) => f.type === "error")).toMatchObject({
      code: "invalid_json",
    });
    expect(await s.request({ type: "dance", ref: "r1" }, (f) => f.type === "error")).toMatchObject({
      code: "unknown_type",
      ref: "r1",
    });
    expect(await s.request({ nope: 1 } as never, (f) => f.type === "error")).toMatchObject({
      code: "unknown_type",
    });
    expect(await s.request([1, 2] as never, (f) => f.type === "error")).toMatchObject({
      code: "invalid_frame",
    });
    const wrongTypes = await s.request(
      { type: "subscribe", room_id: 42, after_seq: "x" },
      (f) => f.type === "error",
    );
    expect(wrongTypes.code).toBe("invalid_frame");
    expect((wrongTypes.details as Array<{ field: string }>).map((d) => d.field).sort()).toEqual([
      "after_seq",
      "room_id",
    ]);
    const tooLong = await s.request(
      { type: "send", room_id: roomId, body: "x".repeat(4001), client_msg_id: "long" },
      (f) => f.type === "error",
    );
    expect(tooLong).toMatchObject({ code: "invalid_frame", ref: "long" });
    const noId = await s.request({ type: "send", room_id: roomId, body: "x" }, (f) => f.type === "error");
    expect(noId.code).toBe("invalid_frame");
    // Another tenant's room, and a room that does not exist: not found, same answer.
    expect(
      await s.request({ type: "subscribe", room_id: other.roomId, ref: "x" }, (f) => f.type === "error"),
    ).toMatchObject({ code: "room_not_found", ref: "x" });
    expect(
      await s.request(
        { type: "send", room_id: other.roomId, body: "hi", client_msg_id: "m1" },
        (f) => f.type === "error",
      ),
    ).toMatchObject({ code: "room_not_found", ref: "m1" });
    expect(
      await s.request(
        { type: "subscribe", room_id: "00000000-0000-4000-8000-000000000000" },
        (f) => f.type === "error",
      ),
    ).toMatchObject({ code: "room_not_found" });
    const binary = new Promise<Frame>((resolve) =>
      s.ws.once("message", (d) => resolve(JSON.parse(d.toString()) as Frame)),
    );
    s.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await binary).toMatchObject({ type: "error", code: "binary_not_supported" });
    expect(await s.request({ type: "ping" }, (f) => f.type === "pong")).toEqual({ type: "pong" });
    expect(s.closeCode).toBeUndefined();
    // Nothing was written to the other tenant's room.
    const history = await call<{ messages: unknown[] }>(
      server.url,
      "GET",
      `${api}/rooms/${other.roomId}/messages`,
      { token: other.users[0]!.token },
    );
    expect(history.body.messages).toEqual([]);
    s.close();
  });

  it("a removed member's subscription ends with unsubscribed", async () => {
    const { users, roomId } = await roomWith(server.url, "kick");
    const s = await connect(server.url, users[1]!.token);
    await s.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "subscribed");
    const del = await call(server.url, "DELETE", `${api}/rooms/${roomId}/members/${users[1]!.id}`, {
      token: users[0]!.token,
    });
    expect(del.status).toBe(204);
    expect(await s.waitFor((f) => f.type === "unsubscribed")).toMatchObject({
      room_id: roomId,
      reason: "removed",
    });
    await sendRest(server.url, users[0]!.token, roomId, "after removal");
    await s.request({ type: "ping" }, (f) => f.type === "pong");
    expect(s.messages(roomId)).toEqual([]);
    expect(await s.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "error")).toMatchObject({
      code: "room_not_found",
    });
    s.close();
  });
});

describe("limits", () => {
  it("a frame over 64 KB closes the connection with 1009; the server carries on", async () => {
    const { users, roomId } = await roomWith(server.url, "big", 1);
    const s = await connect(server.url, users[0]!.token);
    s.send({ type: "send", room_id: roomId, body: "x".repeat(70_000), client_msg_id: "big" });
    expect(await s.closed).toBe(1009);
    const again = await connect(server.url, users[0]!.token);
    expect(await again.request({ type: "ping" }, (f) => f.type === "pong")).toEqual({ type: "pong" });
    again.close();
  });

  it("a flood closes the connection with 4008; other connections and the data are unaffected", async () => {
    const { users, roomId } = await roomWith(strict.url, "flood");
    const bystander = await connect(strict.url, users[1]!.token);
    await bystander.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "subscribed");
    const flooder = await connect(strict.url, users[0]!.token);
    for (let i = 0; i < 500; i++)
      flooder.send({ type: "send", room_id: roomId, body: `f${i}`, client_msg_id: `f${i}` });
    expect(await flooder.closed).toBe(4008);
    const acked = flooder.frames.filter((f) => f.type === "ack").length;
    // Frames accepted before the cut may still be committing when the close arrives (they were
    // never acked). A later send to the same instance queues behind them, so its seq counts them.
    const marker = await sendRest(strict.url, users[1]!.token, roomId, "after the flood");
    expect(marker.status).toBe(201);
    const stored = marker.body.seq;
    // The burst allowance is twice the per-second rate (20): those 40 frames were accepted.
    expect(stored - 1).toBeGreaterThanOrEqual(Math.max(40, acked));
    expect(stored - 1).toBeLessThan(500);
    const history = await call<{ messages: Array<{ seq: number }> }>(
      strict.url,
      "GET",
      `${api}/rooms/${roomId}/messages?limit=200`,
      { token: users[1]!.token },
    );
    // Every frame accepted before the cut was stored, with gapless seqs, and seen by the bystander.
    expect(seqs(history.body.messages)).toEqual(range(1, stored));
    await bystander.waitForAll((f) => f.type === "message", stored);
    expect(seqs(bystander.messages(roomId))).toEqual(range(1, stored));
    expect(await bystander.request({ type: "ping" }, (f) => f.type === "pong")).toEqual({ type: "pong" });
    bystander.close();
  });

  it("the heartbeat terminates a connection that stops answering pings", async () => {
    const { users } = await roomWith(strict.url, "silent", 1);
    const silent = await connect(strict.url, users[0]!.token, {}, { autoPong: false });
    const alive = await connect(strict.url, users[0]!.token);
    expect(await silent.closed).toBe(1006); // terminated, no close frame
    expect(await alive.request({ type: "ping" }, (f) => f.type === "pong")).toEqual({ type: "pong" });
    expect(alive.closeCode).toBeUndefined();
    alive.close();
  });

  it("a consumer that stops reading is dropped; the others get every message", async () => {
    const { users, roomId } = await roomWith(small.url, "slow");
    const slow = await connect(small.url, users[1]!.token);
    const fast = await connect(small.url, users[1]!.token);
    for (const s of [slow, fast])
      await s.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "subscribed");
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const total = 600;
    const body = "😀".repeat(4000); // ~16 KB of JSON per frame
    for (let i = 0; i < total; i += 20) {
      await Promise.all(
        range(i + 1, i + 20).map((n) => sendRest(small.url, users[0]!.token, roomId, body, `s${n}`)),
      );
    }
    await fast.waitForAll((f) => f.type === "message", total);
    expect(seqs(fast.messages(roomId))).toEqual(range(1, total));
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.closed).toBe(1006);
    expect(slow.messages(roomId).length).toBeLessThan(total);
    const metrics = await (await fetch(`${small.url}/metrics`)).text();
    expect(
      Number(/chatapi_websocket_slow_consumers_dropped_total (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(1);
    fast.close();
  });
});

describe("metrics", () => {
  it("counts open connections, messages sent and delivered, and labels HTTP by route template", async () => {
    const { users, roomId } = await roomWith(server.url, "metrics");
    const s = await connect(server.url, users[1]!.token);
    await s.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "subscribed");
    await sendRest(server.url, users[0]!.token, roomId, "counted");
    await s.waitFor((f) => f.type === "message");
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/^chatapi_websocket_connections (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^chatapi_messages_sent_total (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^chatapi_messages_delivered_total (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    // The writer's group commit: statements, sends per statement and statement time.
    const batches = Number(/^chatapi_message_write_batch_size_count (\d+)/m.exec(text)?.[1]);
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(Number(/^chatapi_message_write_batch_size_sum (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(
      batches,
    );
    expect(Number(/^chatapi_message_write_seconds_count (\d+)/m.exec(text)?.[1])).toBe(batches);
    expect(text).toContain(
      'http_requests_total{method="POST",endpoint="/api/v1/rooms/{id}/messages",status="201"}',
    );
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="POST",endpoint="\/api\/v1\/rooms\/\{id\}\/messages"\}/,
    );
    expect(text).not.toContain(roomId); // never a raw path
    s.close();
  });
});
