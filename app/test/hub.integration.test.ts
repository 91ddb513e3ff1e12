// The hub's delivery guarantee with a scripted fan-out: out-of-order, lost, duplicated and
// late payloads still reach every subscriber exactly once and in seq order, reading the gaps
// from PostgreSQL once per room (not once per subscriber).
import { pino } from "pino";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool } from "../src/db/pool.js";
import { createClient } from "../src/domain/clients.js";
import { sendMessage, type Message } from "../src/domain/messages.js";
import { addMember, createRoom, removeMember } from "../src/domain/rooms.js";
import { upsertUser } from "../src/domain/users.js";
import { Metrics } from "../src/observability/metrics.js";
import { encodeMessage, messagePayload } from "../src/ws/encode.js";
import { MemoryFanout, type FanoutHandlers } from "../src/ws/fanout.js";
import { Hub, type Recipient } from "../src/ws/hub.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";

/** A fan-out the test drives by hand: nothing arrives unless the test delivers it. */
class ScriptedFanout extends MemoryFanout {
  scripted!: FanoutHandlers;
  subscribeCalls = 0;
  /** While set, subscribe() waits for it (a slow Redis SUBSCRIBE). */
  gate: Promise<void> | undefined;
  override async subscribe(roomId: string): Promise<void> {
    this.subscribeCalls++;
    await this.gate;
    await super.subscribe(roomId);
  }
  override setHandlers(handlers: FanoutHandlers): void {
    this.scripted = handlers;
  }
  override publish(roomId: string, payload: Buffer): void {
    this.published.push({ roomId, payload });
  }
  arrive(message: Message): void {
    const { frame } = encodeMessage(message);
    this.scripted.onMessage(message.room_id, messagePayload(message.seq, frame));
  }
}

class FakeRecipient implements Recipient {
  closed = false;
  frames: Array<Record<string, unknown>> = [];
  constructor(readonly userId: string) {}
  deliver(frame: Buffer | string): boolean {
    this.frames.push(JSON.parse(frame.toString()) as Record<string, unknown>);
    return true;
  }
  seqs(): number[] {
    return this.frames.filter((f) => f.type === "message").map((f) => (f.message as { seq: number }).seq);
  }
}

let db: TestDatabase;
let pool: pg.Pool;
let actor: { userId: string; clientId: string };

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, poolSize: 2, maxOverflow: 2 });
  const { client } = await createClient(pool, { name: "Hub", email: "hub@example.com" });
  const { user } = await upsertUser(pool, client.id, { external_id: "u", display_name: "U" });
  actor = { userId: user.id, clientId: client.id };
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function setup() {
  const fanout = new ScriptedFanout();
  const metrics = new Metrics({ defaultMetrics: false });
  const hub = new Hub({ pool, fanout, metrics, logger: pino({ level: "silent" }), releaseAfterMs: 10 });
  const room = await createRoom(pool, actor, "r");
  const send = async (body: string) => (await sendMessage(pool, actor, room.id, body, undefined)).message;
  return { fanout, metrics, hub, roomId: room.id, send };
}

/** A second user of the actor's client, added to the room (an actor of its own). */
async function anotherMember(roomId: string, tag: string) {
  const { user } = await upsertUser(pool, actor.clientId, {
    external_id: `${tag}-${roomId}`,
    display_name: tag,
  });
  await addMember(pool, actor, roomId, user.id);
  return { userId: user.id, clientId: actor.clientId };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe("Hub", () => {
  it("reorders early arrivals and drops duplicates", async () => {
    const { fanout, hub, roomId, send } = await setup();
    const r = new FakeRecipient(actor.userId);
    await hub.subscribe(r, actor, roomId, 0);
    const [m1, m2, m3] = [await send("1"), await send("2"), await send("3")];
    fanout.arrive(m1!);
    fanout.arrive(m3!); // early: held until 2
    fanout.arrive(m1!); // duplicate
    fanout.arrive(m2!);
    fanout.arrive(m3!); // duplicate
    await until(() => r.seqs().length === 3);
    expect(r.seqs()).toEqual([1, 2, 3]);
    expect(r.frames[0]).toEqual({ type: "subscribed", room_id: roomId, last_seq: 0 });
  });

  it("fills a lost publish from PostgreSQL with one read for all subscribers", async () => {
    const { fanout, hub, roomId, send, metrics } = await setup();
    const recipients = Array.from({ length: 50 }, () => new FakeRecipient(actor.userId));
    for (const r of recipients) await hub.subscribe(r, actor, roomId);
    const [, , m3] = [await send("1"), await send("2"), await send("3")];
    const before = (await metrics.catchUpQueries.get()).values[0]?.value ?? 0;
    fanout.arrive(m3!); // 1 and 2 were never published
    await until(() => recipients.every((r) => r.seqs().length === 3));
    for (const r of recipients) expect(r.seqs()).toEqual([1, 2, 3]);
    const reads = ((await metrics.catchUpQueries.get()).values[0]?.value ?? 0) - before;
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(2);
  });

  it("catches up after a fan-out reconnect even when nothing new arrives", async () => {
    const { fanout, hub, roomId, send } = await setup();
    const r = new FakeRecipient(actor.userId);
    await hub.subscribe(r, actor, roomId);
    await send("a");
    await send("b"); // published while the transport was down: never arrive
    fanout.scripted.onResync();
    await until(() => r.seqs().length === 2);
    expect(r.seqs()).toEqual([1, 2]);
  });

  it("local publishes go out at once, after the fan-out publish; their echo is dropped", async () => {
    const { fanout, hub, roomId, send } = await setup();
    const r = new FakeRecipient(actor.userId);
    await hub.subscribe(r, actor, roomId);
    const publishedBeforeDelivery: number[] = [];
    const deliver = r.deliver.bind(r);
    r.deliver = (frame) => {
      publishedBeforeDelivery.push(fanout.published.length);
      return deliver(frame);
    };
    const m = await send("x");
    hub.publish(encodeMessage(m));
    expect(r.seqs()).toEqual([1]);
    expect(fanout.published).toHaveLength(1);
    // The other instances get it first: the local writes do not delay them.
    expect(publishedBeforeDelivery).toEqual([1]);
    fanout.arrive(m);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.seqs()).toEqual([1]);
  });

  it("replays from after_seq for late joiners while live messages flow", async () => {
    const { hub, roomId, send } = await setup();
    const early = new FakeRecipient(actor.userId);
    await hub.subscribe(early, actor, roomId, 0);
    for (let i = 0; i < 30; i++) hub.publish(encodeMessage(await send(`m${i}`)));
    const late = new FakeRecipient(actor.userId);
    const joining = hub.subscribe(late, actor, roomId, 10);
    for (let i = 30; i < 40; i++) hub.publish(encodeMessage(await send(`m${i}`)));
    await joining;
    await until(() => late.seqs().length === 30);
    expect(late.seqs()).toEqual(Array.from({ length: 30 }, (_, i) => i + 11));
    expect(early.seqs()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it("releases a room after a socket that subscribed to it twice goes away (the stream does not leak)", async () => {
    const { fanout, hub, roomId } = await setup();
    const r = new FakeRecipient(actor.userId);
    await hub.subscribe(r, actor, roomId);
    await hub.subscribe(r, actor, roomId); // again on the same socket (e.g. with another after_seq)
    hub.removeRecipient(r);
    await until(() => !fanout.isSubscribed(roomId));
    expect(hub.roomCount).toBe(0);
  });

  it("checks membership before anything else: a non-member's subscribe costs no stream and no SUBSCRIBE", async () => {
    const { fanout, hub } = await setup();
    const r = new FakeRecipient(actor.userId);
    for (let i = 0; i < 20; i++) {
      const randomRoom = crypto.randomUUID();
      await expect(hub.subscribe(r, actor, randomRoom)).rejects.toMatchObject({ status: 404 });
    }
    expect(fanout.subscribeCalls).toBe(0);
    expect(hub.roomCount).toBe(0);
  });

  it("refuses a subscribe whose member is removed between its membership check and its registration", async () => {
    const { fanout, hub, roomId, send } = await setup();
    const kicked = await anotherMember(roomId, "kicked");
    const r = new FakeRecipient(kicked.userId);
    let open!: () => void;
    fanout.gate = new Promise((resolve) => (open = resolve));
    const subscribing = hub.subscribe(r, kicked, roomId).then(
      () => "subscribed",
      (error: { status?: number }) => `refused ${error.status}`,
    );
    await until(() => fanout.subscribeCalls === 1); // its membership check passed
    await removeMember(pool, actor, roomId, kicked.userId);
    hub.kick(roomId, kicked.userId);
    open();
    expect(await subscribing).toBe("refused 404");
    hub.publish(encodeMessage(await send("after the removal")));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.seqs()).toEqual([]);
    expect(hub.isSubscribed(r, roomId)).toBe(false);
  });

  it("after a fan-out reconnect, ends the subscriptions of members removed meanwhile (their kick was lost)", async () => {
    const { fanout, hub, roomId, send } = await setup();
    const member = await anotherMember(roomId, "lost-kick");
    const r = new FakeRecipient(member.userId);
    const stays = new FakeRecipient(actor.userId);
    await hub.subscribe(r, member, roomId);
    await hub.subscribe(stays, actor, roomId);
    await removeMember(pool, actor, roomId, member.userId); // its kick is never delivered
    await send("while the transport was down");
    fanout.scripted.onResync(); // what the fan-out reports after it reconnected
    await until(() => r.frames.some((f) => f.type === "unsubscribed"));
    expect(r.frames.at(-1)).toEqual({ type: "unsubscribed", room_id: roomId, reason: "removed" });
    expect(hub.isSubscribed(r, roomId)).toBe(false);
    await until(() => stays.seqs().length === 1);
    expect(r.seqs()).toEqual([]);
  });

  it("holds live messages after a fan-out reconnect until memberships are read again", async () => {
    const { fanout, roomId, send, metrics } = await setup();
    const member = await anotherMember(roomId, "held");
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow = new Proxy(pool, {
      get(target, key, receiver) {
        if (key !== "query") return Reflect.get(target, key, receiver) as unknown;
        return async (config: unknown, ...rest: unknown[]) => {
          // The membership re-check (one read for all cursors) waits for the test.
          if (typeof config === "string" && config.includes("unnest($1::uuid[], $2::uuid[])")) await gate;
          return (target.query as (...a: unknown[]) => unknown).call(target, config, ...rest);
        };
      },
    });
    const hub = new Hub({
      pool: slow,
      fanout,
      metrics,
      logger: pino({ level: "silent" }),
      releaseAfterMs: 10,
    });
    const removed = new FakeRecipient(member.userId);
    const stays = new FakeRecipient(actor.userId);
    await hub.subscribe(removed, member, roomId);
    await hub.subscribe(stays, actor, roomId);
    await removeMember(pool, actor, roomId, member.userId); // its kick is lost
    fanout.scripted.onResync(); // the subscription is back; memberships are being read
    fanout.arrive(await send("right after the reconnect"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(removed.seqs()).toEqual([]);
    expect(stays.seqs()).toEqual([]); // held for everyone, briefly
    open();
    await until(() => stays.seqs().length === 1);
    expect(removed.seqs()).toEqual([]);
    expect(removed.frames.at(-1)).toEqual({ type: "unsubscribed", room_id: roomId, reason: "removed" });
  });

  it("holds live messages from the moment the fan-out's subscription is lost, not only after it is back", async () => {
    const { fanout, hub, roomId, send } = await setup();
    const member = await anotherMember(roomId, "cut");
    const removed = new FakeRecipient(member.userId);
    const stays = new FakeRecipient(actor.userId);
    await hub.subscribe(removed, member, roomId);
    await hub.subscribe(stays, actor, roomId);
    fanout.scripted.onInterrupted(); // the subscriber connection closed
    await removeMember(pool, actor, roomId, member.userId); // its kick is lost meanwhile
    hub.publish(encodeMessage(await send("this instance's own, during the outage"))); // seq 1
    await send("another instance's, its publish lost"); // seq 2
    // The re-subscribe is active before the fan-out reports it back: a message arrives first.
    fanout.arrive(await send("arrives before the fan-out's resync")); // seq 3: reveals the gap
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(removed.seqs()).toEqual([]);
    expect(stays.seqs()).toEqual([]);
    fanout.scripted.onResync();
    await until(() => stays.seqs().length === 3);
    expect(stays.seqs()).toEqual([1, 2, 3]);
    expect(removed.seqs()).toEqual([]);
    expect(removed.frames.at(-1)).toEqual({ type: "unsubscribed", room_id: roomId, reason: "removed" });
  });

  it("a subscriber gets a message whose publish was lost even when nothing else is ever sent", async () => {
    const { hub, roomId, send } = await setup();
    const first = new FakeRecipient(actor.userId);
    await hub.subscribe(first, actor, roomId); // the stream's head is 0
    await send("committed, never published (its instance died)");
    const late = new FakeRecipient(actor.userId);
    await hub.subscribe(late, actor, roomId, 0);
    expect(late.frames[0]).toMatchObject({ type: "subscribed", last_seq: 1 });
    await until(() => late.seqs().length === 1 && first.seqs().length === 1);
    expect(late.seqs()).toEqual([1]);
    expect(first.seqs()).toEqual([1]);
  });

  it("retries a catch-up read that failed, and the subscriber goes live (not silence after subscribed)", async () => {
    const { fanout, roomId, send, metrics } = await setup();
    await send("1");
    await send("2");
    let failures = 1;
    const flaky = new Proxy(pool, {
      get(target, key, receiver) {
        if (key !== "query") return Reflect.get(target, key, receiver) as unknown;
        return (config: { name?: string }, ...rest: unknown[]) => {
          if (typeof config === "object" && config?.name === "messages_after" && failures-- > 0)
            return Promise.reject(new Error("connection terminated unexpectedly"));
          return (target.query as (...a: unknown[]) => unknown).call(target, config, ...rest);
        };
      },
    });
    const hub = new Hub({
      pool: flaky,
      fanout,
      metrics,
      logger: pino({ level: "silent" }),
      releaseAfterMs: 10,
    });
    const r = new FakeRecipient(actor.userId);
    await hub.subscribe(r, actor, roomId, 0);
    await until(() => r.seqs().length === 2);
    hub.publish(encodeMessage(await send("3")));
    await until(() => r.seqs().length === 3);
    expect(r.seqs()).toEqual([1, 2, 3]);
  });

  it("refuses non-members with a 404 and releases idle rooms from the fan-out", async () => {
    const { fanout, hub, roomId } = await setup();
    const stranger = { userId: actor.userId, clientId: "00000000-0000-4000-8000-000000000000" };
    await expect(hub.subscribe(new FakeRecipient(actor.userId), stranger, roomId)).rejects.toMatchObject({
      status: 404,
    });
    const r = new FakeRecipient(actor.userId);
    await hub.subscribe(r, actor, roomId);
    expect(fanout.isSubscribed(roomId)).toBe(true);
    hub.removeRecipient(r);
    await until(() => !fanout.isSubscribed(roomId));
    expect(hub.roomCount).toBe(0);
  });
});
