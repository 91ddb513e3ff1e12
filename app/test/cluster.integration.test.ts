// Several `chatapi serve` processes on one database and Redis, as behind a load balancer:
// cross-instance delivery exactly once and in order, resuming on another instance, graceful
// shutdown, and migrations started in parallel.
import { execFile } from "node:child_process";
import http from "node:http";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";
import { call, type ChatSocket, connect, createTenant, range, seqs } from "../../toolbox/chat-client.js";

const run = promisify(execFile);
const api = "/api/v1";
let db: TestDatabase;
let adminKey: string;
let a: AppProcess;
let b: AppProcess;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  env = appEnv(db.url, { RATE_LIMIT_PER_MINUTE: "1000000" });
  [a, b] = await Promise.all([
    startAppProcess({ ...env, INSTANCE_NAME: "api-a" }),
    startAppProcess({ ...env, INSTANCE_NAME: "api-b" }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

async function room(label: string, members: number) {
  const t = await createTenant(a.url, adminKey, label);
  const users = [];
  for (let i = 0; i < members; i++) users.push(await t.newUser(`${label}-${i}`));
  const r = await call<{ id: string }>(b.url, "POST", `${api}/rooms`, {
    token: users[0]!.token,
    body: { name: label, member_ids: users.slice(1).map((u) => u.id) },
  });
  return { users, roomId: r.body.id };
}

describe("two instances", () => {
  it("each instance names itself in ready", async () => {
    const { users } = await room("names", 1);
    const onA = await connect(a.url, users[0]!.token);
    const onB = await connect(b.url, users[0]!.token);
    expect(onA.frames[0]!.instance).toBe("api-a");
    expect(onB.frames[0]!.instance).toBe("api-b");
    onA.close();
    onB.close();
  });

  it("subscribers on both instances get every message sent on either, exactly once and in order", async () => {
    const { users, roomId } = await room("fanout", 4);
    const subscribers = [
      await connect(a.url, users[2]!.token),
      await connect(b.url, users[3]!.token),
      await connect(a.url, users[3]!.token),
    ];
    for (const s of subscribers)
      await s.request({ type: "subscribe", room_id: roomId, after_seq: 0 }, (f) => f.type === "subscribed");
    const senderA = await connect(a.url, users[0]!.token);
    const senderB = await connect(b.url, users[1]!.token);
    const perSender = 100;
    const sendAll = async (socket: ChatSocket, tag: string) => {
      for (let i = 0; i < perSender; i++) {
        // Two in flight per sender keeps both instances writing concurrently.
        const id = `${tag}${i}`;
        socket.send({ type: "send", room_id: roomId, body: `${tag} ${i}`, client_msg_id: id });
        if (i % 2 === 1) await socket.waitFor((f) => f.type === "ack" && f.client_msg_id === id);
      }
      await socket.waitForAll((f) => f.type === "ack", perSender);
    };
    // REST sends through B at the same time.
    const rest = (async () => {
      for (let i = 0; i < 20; i++) {
        const r = await call(b.url, "POST", `${api}/rooms/${roomId}/messages`, {
          token: users[0]!.token,
          body: { body: `rest ${i}` },
        });
        expect(r.status).toBe(201);
      }
    })();
    await Promise.all([sendAll(senderA, "a"), sendAll(senderB, "b"), rest]);
    const total = 2 * perSender + 20;
    for (const s of subscribers) {
      await s.waitForAll((f) => f.type === "message", total);
      expect(seqs(s.messages(roomId))).toEqual(range(1, total));
    }
    // Senders' own order is preserved within the room order.
    const bodiesA = subscribers[0]!
      .messages(roomId)
      .map((m) => m.body)
      .filter((x) => x.startsWith("a "));
    expect(bodiesA).toEqual(range(0, perSender - 1).map((i) => `a ${i}`));
    for (const s of [...subscribers, senderA, senderB]) s.close();
  });

  it("a client that reconnects to the other instance with after_seq gets exactly what it missed, then live", async () => {
    const { users, roomId } = await room("resume", 2);
    const [sender, reader] = users as [(typeof users)[0], (typeof users)[0]];
    const send = (i: number) =>
      call(a.url, "POST", `${api}/rooms/${roomId}/messages`, {
        token: sender.token,
        body: { body: `m${i}` },
      });
    const first = await connect(a.url, reader.token);
    await first.request({ type: "subscribe", room_id: roomId, after_seq: 0 }, (f) => f.type === "subscribed");
    for (let i = 1; i <= 10; i++) await send(i);
    await first.waitForAll((f) => f.type === "message", 10);
    const lastSeen = first.messages(roomId).at(-1)!.seq;
    first.close();
    await first.closed;
    for (let i = 11; i <= 25; i++) await send(i); // missed while away
    const second = await connect(b.url, reader.token);
    const subscribed = await second.request(
      { type: "subscribe", room_id: roomId, after_seq: lastSeen },
      (f) => f.type === "subscribed",
    );
    expect(subscribed.last_seq).toBe(25);
    for (let i = 26; i <= 30; i++) await send(i);
    await second.waitForAll((f) => f.type === "message", 20);
    expect(seqs(second.messages(roomId))).toEqual(range(11, 30));
    expect(second.messages(roomId).map((m) => m.body)).toEqual(range(11, 30).map((i) => `m${i}`));
    second.close();
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM: in-flight sends finish and are acked, sockets close with 1001, exit code 0", async () => {
    const c = await startAppProcess({ ...env, INSTANCE_NAME: "api-c" });
    const { users, roomId } = await room("shutdown", 1);
    const s = await connect(c.url, users[0]!.token);
    await s.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "subscribed");
    const n = 30;
    for (let i = 0; i < n; i++)
      s.send({ type: "send", room_id: roomId, body: `x${i}`, client_msg_id: `x${i}` });
    c.signal("SIGTERM");
    expect(await s.closed).toBe(1001);
    expect(await c.exited).toBe(0);
    const acks = s.frames.filter((f) => f.type === "ack").map((f) => f.client_msg_id as string);
    const refused = s.frames.filter((f) => f.type === "error" && f.code === "shutting_down").length;
    const history = await call<{ messages: Array<{ client_msg_id: string; seq: number }> }>(
      a.url,
      "GET",
      `${api}/rooms/${roomId}/messages?limit=200`,
      { token: users[0]!.token },
    );
    const stored = history.body.messages.map((m) => m.client_msg_id);
    // Every acked send is stored; every accepted send was acked (none lost in between).
    expect(stored).toEqual(acks);
    expect(acks.length + refused).toBe(n);
    expect(seqs(history.body.messages)).toEqual(range(1, stored.length));
    // After it left, the others still serve (clients reconnect there).
    expect((await call(a.url, "GET", "/health")).status).toBe(200);
  });
});

describe("graceful shutdown of busy keep-alive connections", () => {
  it("SIGTERM: a client reusing one keep-alive connection is answered with Connection: close, never cut", async () => {
    const d = await startAppProcess({ ...env, INSTANCE_NAME: "api-d" });
    const { users, roomId } = await room("keepalive", 1);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (i: number) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = http.request(
          `${d.url}${api}/rooms/${roomId}/messages`,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", authorization: `Bearer ${users[0]!.token}` },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ body: `k${i}`, client_msg_id: `k${i}` }));
      });
    // Busy on one connection, then SIGTERM between two requests on it.
    for (let i = 0; i < 5; i++) expect((await post(i)).status).toBe(201);
    const answered = post(5);
    d.signal("SIGTERM");
    const outcomes: Array<{ status: number; connection: string | undefined } | string> = [await answered];
    // The same client keeps going until the instance is gone: each request is answered or refused
    // (ECONNREFUSED: try another instance), never cut once the server has taken it. A connection
    // the kernel completed just as the listener closed, before the process accepted it, is reset
    // with its request unread (ECONNRESET): the server cannot prevent that, and since it never
    // saw the request, nothing of it may be stored (the client retries with its client_msg_id).
    const failed: Array<{ i: number; code: string }> = [];
    for (let i = 6; i < 200 && d.alive(); i++) {
      const outcome = await post(i).catch((error: NodeJS.ErrnoException) => error.code ?? error.message);
      outcomes.push(outcome);
      if (typeof outcome === "string") failed.push({ i, code: outcome });
      await new Promise((r) => setTimeout(r, 5));
    }
    agent.destroy();
    expect(await d.exited).toBe(0);
    const unexpected = failed.filter((f) => f.code !== "ECONNREFUSED" && f.code !== "ECONNRESET");
    expect(unexpected).toEqual([]);
    const reset = failed.filter((f) => f.code === "ECONNRESET").map((f) => `k${f.i}`);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const stored = await client.query<{ client_msg_id: string }>(
      "SELECT client_msg_id FROM messages WHERE client_msg_id = ANY($1::text[])",
      [reset],
    );
    await client.end();
    expect(stored.rows.map((r) => r.client_msg_id)).toEqual([]);
    expect(outcomes.some((o) => typeof o === "object" && o.connection === "close")).toBe(true);
  });
});

describe("migrations", () => {
  it("three `chatapi migrate` started at once: one applies, all succeed, the schema is complete", async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      const migrateEnv = { PATH: process.env.PATH ?? "", DATABASE_URL: fresh.url };
      const results = await Promise.all(
        [1, 2, 3].map(() => run(process.execPath, [CLI, "migrate", "--json"], { env: migrateEnv })),
      );
      const applied = results.map((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied);
      expect(applied.filter((x) => x.length > 0)).toHaveLength(1);
      expect(applied.flat()).toEqual(["1700000000000_initial-schema", "1700000000001_background-jobs"]);
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      const { rows } = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      await client.end();
      expect(rows.map((r) => r.table_name)).toEqual([
        "api_keys",
        "clients",
        "email_deliveries",
        "job_runs",
        "messages",
        "notification_batches",
        "outbox",
        "refresh_tokens",
        "room_members",
        "rooms",
        "schema_migrations",
        "users",
      ]);
    } finally {
      await fresh.drop();
    }
  });

  it("serve refuses an outdated schema and names the fix", async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      await expect(startAppProcess(appEnv(fresh.url))).rejects.toThrow(
        /schema is not up to date.*chatapi migrate/,
      );
    } finally {
      await fresh.drop();
    }
  });
});
