// Issue 23's delivery findings, each as an attack on real instances that failed on the code
// before the fix (docs/RELIABILITY.md keeps the numbers): a room stream that never goes away,
// (1) a removed member who keeps receiving, (3) subscribes that cost a stream before the
// membership check, (4) a committed message whose publish was lost, (5) a batch that failed after
// COMMIT, (6) a catch-up read that failed.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { HoldingProxy } from "../../toolbox/tcp-proxy";
import { PrivateRedis } from "../../toolbox/private-services";
import { required } from "../lib/services";
import type { AttackResult, Scale } from "../lib/results";
import { type Check, findingResult } from "./lib/finding";
import { type Instance, startInstance } from "./lib/instance";
import {
  API,
  call,
  type ChatSocket,
  connect,
  createTenant,
  type TenantUser,
} from "../../toolbox/chat-client";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqs = (socket: ChatSocket, room: string) =>
  socket.frames
    .filter((f) => f.type === "message" && (f.message as { room_id: string }).room_id === room)
    .map((f) => (f.message as { seq: number }).seq);

/** A tenant, `count` users and one room they are all in (created by the first). */
async function roomOf(instance: Instance, label: string, count: number) {
  const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, label);
  const users: TenantUser[] = [];
  for (let i = 0; i < count; i++) users.push(await tenant.newUser(`${label}-${i}`));
  const room = await call<{ id: string }>(instance.url, "POST", `${API}/rooms`, {
    token: users[0]!.token,
    body: { name: label, member_ids: users.slice(1).map((u) => u.id) },
  });
  if (room.status !== 201) throw new Error(`creating a room: ${room.status} ${room.text}`);
  return { tenant, users, roomId: room.body.id };
}

/** Redis channels of room streams under an instance's key prefix (PUBSUB CHANNELS reads only). */
async function roomChannels(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return (await redis.pubsub("CHANNELS", `${prefix}room:*`)).length;
  } finally {
    redis.disconnect();
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

/** Reproduced: a socket that subscribes to a room twice and leaves kept the room's stream forever. */
export async function roomStreamLeak(scale: Scale): Promise<AttackResult> {
  const instance = await startInstance();
  const rooms = scale === "short" ? 10 : 50;
  try {
    const { users, roomId } = await roomOf(instance, "leak", 2);
    const extra: string[] = [roomId];
    for (let i = 1; i < rooms; i++) {
      const r = await call<{ id: string }>(instance.url, "POST", `${API}/rooms`, {
        token: users[0]!.token,
        body: { name: `leak ${i}`, member_ids: [users[1]!.id] },
      });
      extra.push(r.body.id);
    }
    const socket = await connect(instance.url, users[1]!.token);
    for (const room of extra) {
      socket.send({ type: "subscribe", room_id: room, after_seq: 0 });
      socket.send({ type: "subscribe", room_id: room, after_seq: 0 }); // again, on the same socket
    }
    await waitFor(() => socket.frames.filter((f) => f.type === "subscribed").length === rooms * 2, 15_000);
    const redisUrl = instance.env.REDIS_URL!;
    const prefix = instance.env.REDIS_KEY_PREFIX!;
    const held = await roomChannels(redisUrl, prefix);
    socket.terminate();
    // The hub lets a room go 30 s after its last subscriber left.
    const released = await waitFor(async () => (await roomChannels(redisUrl, prefix)) === 0, 45_000);
    const left = await roomChannels(redisUrl, prefix);
    return findingResult(
      "room-stream-leak",
      "A room subscribed twice on one socket: its stream and Redis channel after the socket left",
      "every room's stream and Redis channel released within the 30 s grace period",
      `${rooms} rooms subscribed twice: ${held} channels while connected, ${left} left after the socket closed (30 s grace, waited up to 45 s)`,
      rooms * 2,
      [
        { name: "the rooms were followed while the socket was there", ok: held === rooms, detail: `${held}` },
        {
          name: "every room's Redis channel released after the socket left",
          ok: released,
          detail: `${left} of ${rooms} channels left`,
        },
      ],
    );
  } finally {
    await instance.stop();
  }
}

/**
 * Finding 1: a member removed from a room while its instance's Redis subscription was down (the
 * kick was lost) kept receiving the room after the reconnect. Two instances on a private Redis
 * whose pub/sub connections are cut again and again around the removal.
 */
export async function removedMember(scale: Scale): Promise<AttackResult> {
  const redis = await PrivateRedis.start();
  const a = await startInstance({ env: { REDIS_URL: redis.url } });
  let b: Instance | undefined;
  const rounds = scale === "short" ? 2 : 5;
  const checks: Check[] = [];
  let leaked = 0;
  let told = 0;
  let refused = 0;
  try {
    b = await a.sibling("chaos-b");
    for (let round = 0; round < rounds; round++) {
      const { users, roomId } = await roomOf(a, `kick-${round}`, 2);
      const [owner, member] = users as [TenantUser, TenantUser];
      const socket = await connect(b.url, member.token);
      socket.send({ type: "subscribe", room_id: roomId, after_seq: 0 });
      await socket.next((f) => f.type === "subscribed");
      // Cut every pub/sub connection every 30 ms: b's subscription is down when the kick goes out.
      let cutting = true;
      const cutter = (async () => {
        while (cutting) {
          await redis.cli("CLIENT", "KILL", "TYPE", "pubsub").catch(() => undefined);
          await sleep(30);
        }
      })();
      await sleep(100);
      const removed = await call(a.url, "DELETE", `${API}/rooms/${roomId}/members/${member.id}`, {
        token: owner.token,
      });
      for (let i = 0; i < 3; i++)
        await call(a.url, "POST", `${API}/rooms/${roomId}/messages`, {
          token: owner.token,
          body: { body: `after the removal ${i}`, client_msg_id: randomUUID() },
        });
      await sleep(500);
      cutting = false;
      await cutter;
      await sleep(3000); // b's subscription is back and has resynced
      await call(a.url, "POST", `${API}/rooms/${roomId}/messages`, {
        token: owner.token,
        body: { body: "later", client_msg_id: randomUUID() },
      });
      await sleep(1000);
      if (removed.status !== 204) throw new Error(`removing the member: ${removed.status}`);
      leaked += seqs(socket, roomId).length;
      if (socket.frames.some((f) => f.type === "unsubscribed" && f.reason === "removed")) told++;
      const sentAt = socket.frames.length;
      socket.send({ type: "subscribe", room_id: roomId, after_seq: 0, ref: "again" });
      const again = await socket.next((f) => f.ref === "again" || f.type === "subscribed", sentAt, 5000);
      if (again?.type === "error" && again.code === "room_not_found") refused++;
      socket.terminate();
    }
    checks.push({
      name: "a member removed while its instance's Redis subscription was down receives nothing sent after",
      ok: leaked === 0,
      detail: `${leaked} messages reached removed members over ${rounds} rounds`,
    });
    checks.push({
      name: "… and is told (unsubscribed, reason removed)",
      ok: told === rounds,
      detail: `${told}/${rounds}`,
    });
    checks.push({
      name: "… and cannot subscribe again (404)",
      ok: refused === rounds,
      detail: `${refused}/${rounds}`,
    });
    return findingResult(
      "removed-member",
      "Finding 1: a member removed while the kick could not reach its instance",
      "nothing committed after the removal reaches the removed member; it gets unsubscribed (removed)",
      `${rounds} removals during pub/sub cuts every 30 ms: ${leaked} messages reached removed members, ${told} told`,
      rounds * 5,
      checks,
    );
  } finally {
    await b?.stop();
    await a.stop();
    await redis.dispose();
  }
}

/** Finding 3: a socket subscribing to random room ids made a stream and a Redis channel for each. */
export async function subscribeChurn(scale: Scale): Promise<AttackResult> {
  const instance = await startInstance();
  const tries = scale === "short" ? 150 : 350; // under the default burst of 400 frames
  try {
    const { users } = await roomOf(instance, "churn", 1);
    const socket = await connect(instance.url, users[0]!.token);
    let peak = 0;
    const redisUrl = instance.env.REDIS_URL!;
    const prefix = instance.env.REDIS_KEY_PREFIX!;
    for (let i = 0; i < tries; i++) socket.send({ type: "subscribe", room_id: randomUUID(), ref: `c${i}` });
    const answered = await waitFor(
      () => socket.frames.filter((f) => f.type === "error").length >= tries,
      20_000,
    );
    peak = await roomChannels(redisUrl, prefix);
    const metrics = await call(instance.url, "GET", "/metrics");
    const rooms = /^chatapi_fanout_rooms (\d+)/m.exec(metrics.text)?.[1] ?? "absent";
    socket.terminate();
    const refused = socket.frames.filter((f) => f.type === "error" && f.code === "room_not_found").length;
    return findingResult(
      "subscribe-churn",
      "Finding 3: subscribes to random room ids, each before any membership check",
      "404 for each, with no stream and no Redis channel made",
      `${tries} random room ids: ${refused} × 404; Redis channels afterwards ${peak}; chatapi_fanout_rooms ${rooms}`,
      tries,
      [
        {
          name: "every subscribe answered 404 room_not_found",
          ok: answered && refused === tries,
          detail: `${refused}`,
        },
        { name: "no Redis channel subscribed for them", ok: peak === 0, detail: `${peak} channels` },
      ],
    );
  } finally {
    await instance.stop();
  }
}

/** Commits a message the way the service does, without publishing it (its instance died). */
async function commitWithoutPublish(
  databaseUrl: string,
  roomId: string,
  senderId: string,
  clientMsgId: string,
): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ seq: string }>(
      `WITH r AS (UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq)
       INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id)
       SELECT $1, r.last_seq, $2, 'committed, never published', $3 FROM r RETURNING seq`,
      [roomId, senderId, clientMsgId],
    );
    return Number(rows[0]!.seq);
  } finally {
    await db.end();
  }
}

/** Finding 4: a message committed whose publish was lost reached nobody, retry or new subscriber. */
export async function lostPublish(_scale: Scale): Promise<AttackResult> {
  const instance = await startInstance();
  try {
    const { users, roomId } = await roomOf(instance, "lost", 2);
    const [owner, member] = users as [TenantUser, TenantUser];
    const live = await connect(instance.url, member.token);
    live.send({ type: "subscribe", room_id: roomId, after_seq: 0 });
    await live.next((f) => f.type === "subscribed");
    // (a) The sender retries with the same client_msg_id: 200, and the message must go out now.
    const first = randomUUID();
    const seq1 = await commitWithoutPublish(instance.secrets.DATABASE_URL, roomId, owner.id, first);
    const retry = await call(instance.url, "POST", `${API}/rooms/${roomId}/messages`, {
      token: owner.token,
      body: { body: "committed, never published", client_msg_id: first },
    });
    const afterRetry = await waitFor(() => seqs(live, roomId).includes(seq1), 3000);
    // (b) Nobody retries: a new subscriber's catch-up must still reach the room's last_seq.
    const seq2 = await commitWithoutPublish(instance.secrets.DATABASE_URL, roomId, owner.id, randomUUID());
    const late = await connect(instance.url, member.token);
    late.send({ type: "subscribe", room_id: roomId, after_seq: 0 });
    const lateGot = await waitFor(() => seqs(late, roomId).includes(seq2), 3000);
    const liveGot = await waitFor(() => seqs(live, roomId).includes(seq2), 3000);
    live.terminate();
    late.terminate();
    return findingResult(
      "lost-publish",
      "Finding 4: a message committed whose publish was lost (its instance died in between)",
      "a retry with the same client_msg_id publishes it; a new subscriber's catch-up goes up to the room's last_seq",
      `retry answered ${retry.status}; live subscriber got it after the retry: ${afterRetry}; new subscriber got the next one: ${lateGot}`,
      3,
      [
        {
          name: "the retry (200) published it to the live subscriber",
          ok: retry.status === 200 && afterRetry,
        },
        { name: "a new subscriber's catch-up went past the stream's head to last_seq", ok: lateGot },
        { name: "… and the live subscriber got it too", ok: liveGot },
      ],
    );
  } finally {
    await instance.stop();
  }
}

/** An instance whose PostgreSQL connections go through a proxy the attack can cut. */
async function instanceBehindProxy(): Promise<{ instance: Instance; proxy: HoldingProxy }> {
  const target = new URL(required("CHATAPI_TEST_DATABASE_URL"));
  const proxy = await HoldingProxy.start(target.hostname, Number(target.port || 5432));
  try {
    const instance = await startInstance({
      // Migration and setup go direct; `serve` talks to PostgreSQL through the proxy.
      serveEnv: (env) => {
        const url = new URL(env.DATABASE_URL!);
        url.hostname = "127.0.0.1";
        url.port = String(proxy.port);
        return { DATABASE_URL: url.toString() };
      },
    });
    const stop = instance.stop;
    return { instance: Object.assign(instance, { stop: () => stop().finally(() => proxy.close()) }), proxy };
  } catch (error) {
    await proxy.close();
    throw error;
  }
}

/**
 * Finding 5: the connection dies after a batch of sends committed (a reset during failover): the
 * service retried each send, and those without client_msg_id were stored twice.
 */
export async function commitReset(scale: Scale): Promise<AttackResult> {
  const { instance, proxy } = await instanceBehindProxy();
  const sends = scale === "short" ? 20 : 60;
  try {
    const { users, roomId } = await roomOf(instance, "reset", 1);
    const token = users[0]!.token;
    const post = (body: string) =>
      call(instance.url, "POST", `${API}/rooms/${roomId}/messages`, { token, body: { body } });
    await post("warm-up");
    // The batch statement's reply never comes back; its commit has happened.
    proxy.holdRepliesAfter("insert_message_batch_rooms");
    const tag = randomUUID().slice(0, 8);
    const answers = Array.from({ length: sends }, (_, i) => post(`reset ${tag} ${i}`));
    const db = new pg.Client({ connectionString: instance.secrets.DATABASE_URL });
    await db.connect();
    const count = async () =>
      Number(
        (
          await db.query<{ n: string }>("SELECT count(*) AS n FROM messages WHERE body LIKE $1", [
            `reset ${tag} %`,
          ])
        ).rows[0]!.n,
      );
    await waitFor(async () => proxy.heldCount > 0 && (await count()) >= 2, 15_000);
    await sleep(300);
    const committedBeforeCut = await count();
    proxy.cut();
    const replies = await Promise.all(answers);
    const { rows } = await db.query<{ body: string; n: string }>(
      "SELECT body, count(*) AS n FROM messages WHERE body LIKE $1 GROUP BY body",
      [`reset ${tag} %`],
    );
    await db.end();
    const twice = rows.filter((r) => Number(r.n) > 1).length;
    const created = replies.filter((r) => r.status === 201).length;
    return findingResult(
      "commit-reset",
      "Finding 5: the database connection reset after a batch of sends without client_msg_id committed",
      "each send stored once, each answered 201",
      `${sends} sends; ${committedBeforeCut} committed when the connection was cut; ${rows.length} stored, ${twice} twice; ${created} answered 201`,
      sends,
      [
        {
          name: "the cut hit a batch that had committed",
          ok: committedBeforeCut >= 2,
          detail: `${committedBeforeCut}`,
        },
        { name: "no send stored twice", ok: twice === 0, detail: `${twice} bodies stored twice` },
        { name: "every send stored and answered 201", ok: rows.length === sends && created === sends },
      ],
    );
  } finally {
    await instance.stop();
  }
}

/** Finding 6: a catch-up read that failed left a subscription that never went live. */
export async function catchUpFailure(_scale: Scale): Promise<AttackResult> {
  const { instance, proxy } = await instanceBehindProxy();
  try {
    const { users, roomId } = await roomOf(instance, "catchup", 2);
    const [owner, member] = users as [TenantUser, TenantUser];
    for (let i = 0; i < 5; i++)
      await call(instance.url, "POST", `${API}/rooms/${roomId}/messages`, {
        token: owner.token,
        body: { body: `before ${i}`, client_msg_id: randomUUID() },
      });
    proxy.holdRepliesAfter("messages_after");
    const socket = await connect(instance.url, member.token);
    socket.send({ type: "subscribe", room_id: roomId, after_seq: 0, ref: "sub" });
    const subscribed = await socket.next((f) => f.type === "subscribed");
    await waitFor(() => proxy.heldCount > 0, 10_000);
    proxy.cut(); // the catch-up read fails
    const replayed = await waitFor(() => seqs(socket, roomId).length >= 5, 10_000);
    const replayedCount = seqs(socket, roomId).length;
    await call(instance.url, "POST", `${API}/rooms/${roomId}/messages`, {
      token: owner.token,
      body: { body: "live", client_msg_id: randomUUID() },
    });
    const live = await waitFor(() => seqs(socket, roomId).includes(6), 5000);
    const errors = socket.frames.filter((f) => f.type === "error").map((f) => String(f.code));
    socket.terminate();
    return findingResult(
      "catch-up-failure",
      "Finding 6: the catch-up read of a new subscription fails (database connection reset)",
      "the catch-up is retried and the subscription goes live (or the client is told and may resubscribe)",
      `subscribed ${subscribed ? "yes" : "no"}; replayed ${replayedCount} of 5; live message ${live ? "delivered" : "never delivered"}; error frames ${errors.join(", ") || "none"}`,
      2,
      [
        { name: "the 5 earlier messages were replayed after the failed read", ok: replayed },
        { name: "the subscription went live (the next message arrived)", ok: live },
      ],
    );
  } finally {
    await instance.stop();
  }
}
