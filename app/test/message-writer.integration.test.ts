// Batched writes: gapless seqs in request order per room, per-item answers (created, duplicate,
// not a member, another client's room) even when one batch mixes them and several rooms; two
// writers (two instances) on overlapping rooms neither deadlock nor break a room's order.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool } from "../src/db/pool.js";
import { createClient } from "../src/domain/clients.js";
import { MessageWriter } from "../src/domain/message-writer.js";
import { createRoom } from "../src/domain/rooms.js";
import { upsertUser } from "../src/domain/users.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";
import { HoldingProxy } from "../../toolbox/tcp-proxy.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, poolSize: 4, maxOverflow: 4 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe("MessageWriter", () => {
  it("stores each send once when the connection dies after the batch committed (with and without client_msg_id)", async () => {
    const { client } = await createClient(pool, { name: "Reset", email: "reset@example.com" });
    const alice = {
      userId: (await upsertUser(pool, client.id, { external_id: "r", display_name: "R" })).user.id,
      clientId: client.id,
    };
    const room = await createRoom(pool, alice, "reset");
    const target = new URL(db.url);
    const proxy = await HoldingProxy.start(target.hostname, Number(target.port || 5432));
    const proxied = new URL(db.url);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    const viaProxy = createPool({ databaseUrl: proxied.toString(), poolSize: 2, maxOverflow: 0 });
    viaProxy.on("error", () => undefined);
    try {
      const writer = new MessageWriter(viaProxy);
      await writer.send(alice, room.id, "warm-up", undefined);
      proxy.holdReplies();
      const sends = Array.from({ length: 10 }, (_, i) =>
        writer.send(alice, room.id, `reset-${i}`, i % 2 ? `reset-${i}` : undefined),
      );
      // The batch committed; its answer never arrives: the connection is reset.
      for (let i = 0; i < 500; i++) {
        const { rows } = await pool.query("SELECT count(*)::int AS n FROM messages WHERE room_id = $1", [
          room.id,
        ]);
        if (rows[0].n === 11) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      proxy.cut();
      const results = await Promise.allSettled(sends);
      const { rows } = await pool.query<{ body: string; n: number }>(
        "SELECT body, count(*)::int AS n FROM messages WHERE room_id = $1 GROUP BY body ORDER BY body",
        [room.id],
      );
      expect(rows.filter((r) => r.n > 1)).toEqual([]);
      expect(rows).toHaveLength(11);
      // Every sender learns its message was stored (it is published as created).
      expect(results.map((r) => (r.status === "fulfilled" ? r.value.created : r.reason))).toEqual(
        Array.from({ length: 10 }, () => true),
      );
    } finally {
      await viaProxy.end().catch(() => undefined);
      await proxy.close();
    }
  });

  it("answers each request of a mixed batch correctly and keeps seqs gapless in order", async () => {
    const { client } = await createClient(pool, { name: "W", email: "w@example.com" });
    const user = async (id: string) => ({
      userId: (await upsertUser(pool, client.id, { external_id: id, display_name: id })).user.id,
      clientId: client.id,
    });
    const [alice, bob, eve] = [await user("alice"), await user("bob"), await user("eve")];
    const room = await createRoom(pool, alice, "w", [bob.userId]);
    const writer = new MessageWriter(pool);
    const existing = await writer.send(alice, room.id, "first", "dup-old");
    expect(existing).toMatchObject({ created: true, message: { seq: 1 } });

    // All queued in one tick: one batch.
    const results = await Promise.allSettled([
      writer.send(alice, room.id, "a1", "a1"),
      writer.send(bob, room.id, "b1", undefined),
      writer.send(eve, room.id, "not a member", "e1"),
      writer.send(alice, room.id, "again", "dup-old"),
      writer.send(bob, room.id, "b2", "same"),
      writer.send(bob, room.id, "b2 repeated", "same"),
      ...Array.from({ length: 30 }, (_, i) => writer.send(i % 2 ? alice : bob, room.id, `n${i}`, `n${i}`)),
    ]);
    const ok = results.map((r) => (r.status === "fulfilled" ? r.value : undefined));
    expect(results[2]).toMatchObject({ status: "rejected", reason: { status: 404 } });
    expect(ok[3]).toEqual({ created: false, message: existing.message });
    expect(ok[4]!.created).toBe(true);
    expect(ok[5]).toEqual({ created: false, message: ok[4]!.message });
    const created = ok.filter((r) => r?.created).map((r) => r!.message);
    expect(created.map((m) => m.seq)).toEqual(Array.from({ length: created.length }, (_, i) => i + 2));
    expect(created.map((m) => m.body)).toEqual([
      "a1",
      "b1",
      "b2",
      ...Array.from({ length: 30 }, (_, i) => `n${i}`),
    ]);
    const { rows } = await pool.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [
      room.id,
    ]);
    expect(rows[0]!.last_seq).toBe(1 + created.length);
  });

  it("writes several rooms in one batch, each room gapless and in order, refusing what is not allowed", async () => {
    const { client } = await createClient(pool, { name: "M", email: "m@example.com" });
    const { client: other } = await createClient(pool, { name: "O", email: "o@example.com" });
    const user = async (clientId: string, id: string) => ({
      userId: (await upsertUser(pool, clientId, { external_id: id, display_name: id })).user.id,
      clientId,
    });
    const [ann, ben] = [await user(client.id, "ann"), await user(client.id, "ben")];
    const outsider = await user(other.id, "olga");
    const rooms = [
      await createRoom(pool, ann, "r1", [ben.userId]),
      await createRoom(pool, ann, "r2", []),
      await createRoom(pool, ben, "r3", [ann.userId]),
    ];
    const theirs = await createRoom(pool, outsider, "theirs", []);
    const writer = new MessageWriter(pool);
    const sends = Array.from({ length: 60 }, (_, i) => {
      const room = rooms[i % 3]!;
      return { room, promise: writer.send(ann, room.id, `${room.name}-${Math.floor(i / 3)}`, `m${i}`) };
    });
    const refusals = await Promise.allSettled([
      writer.send(ben, rooms[1]!.id, "ben is not in r2", "x1"),
      writer.send(ann, theirs.id, "another client's room", "x2"),
      writer.send(ann, rooms[0]!.id, "repeat", "m0"),
    ]);
    const results = await Promise.all(sends.map((s) => s.promise));
    expect(refusals[0]).toMatchObject({ status: "rejected", reason: { status: 404 } });
    expect(refusals[1]).toMatchObject({ status: "rejected", reason: { status: 404 } });
    expect(refusals[2]).toEqual({
      status: "fulfilled",
      value: { created: false, message: results[0]!.message },
    });
    for (const room of rooms) {
      const mine = results.filter((r, i) => sends[i]!.room === room).map((r) => r.message);
      expect(mine.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(mine.map((m) => m.body)).toEqual(Array.from({ length: 20 }, (_, i) => `${room.name}-${i}`));
    }
    const { rows } = await pool.query<{ id: string; last_seq: number }>(
      "SELECT id, last_seq FROM rooms WHERE id = ANY($1)",
      [[...rooms, theirs].map((r) => r.id)],
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, r.last_seq]))).toEqual({
      [rooms[0]!.id]: 20,
      [rooms[1]!.id]: 20,
      [rooms[2]!.id]: 20,
      [theirs.id]: 0,
    });
  });

  it("two writers on overlapping rooms (two instances) keep every room gapless without deadlocks", async () => {
    const { client } = await createClient(pool, { name: "C", email: "c@example.com" });
    const actor = {
      userId: (await upsertUser(pool, client.id, { external_id: "c", display_name: "c" })).user.id,
      clientId: client.id,
    };
    const rooms = await Promise.all(
      Array.from({ length: 6 }, (_, i) => createRoom(pool, actor, `c${i}`, [])),
    );
    // Statements that failed (a deadlock would be retried one by one and go unnoticed otherwise).
    const failures: string[] = [];
    const watched = {
      query: (...args: Parameters<pg.Pool["query"]>) =>
        (pool.query as (...a: unknown[]) => Promise<unknown>)(...args).catch((error: { code?: string }) => {
          failures.push(error.code ?? "?");
          throw error;
        }),
    } as unknown as pg.Pool;
    const writers = [new MessageWriter(watched), new MessageWriter(watched)];
    const sends: Array<Promise<{ message: { room_id: string; seq: number } }>> = [];
    for (let round = 0; round < 20; round++) {
      // Each writer queues the rooms in a different order, so naive locking would deadlock.
      for (const [w, writer] of writers.entries()) {
        const order = w === 0 ? rooms : [...rooms].reverse();
        for (const room of order)
          sends.push(writer.send(actor, room.id, `w${w} r${round}`, `w${w}-${round}-${room.id}`));
      }
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(sends);
    expect(failures).toEqual([]);
    for (const room of rooms) {
      const seqs = results.filter((r) => r.message.room_id === room.id).map((r) => r.message.seq);
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
  });

  it("sends the next statement before answering the senders of the one that just finished", async () => {
    const { client } = await createClient(pool, { name: "N", email: "n@example.com" });
    const actor = {
      userId: (await upsertUser(pool, client.id, { external_id: "n", display_name: "n" })).user.id,
      clientId: client.id,
    };
    const room = await createRoom(pool, actor, "n", []);
    const events: string[] = [];
    const watched = {
      query: (...args: Parameters<pg.Pool["query"]>) => {
        events.push(`statement (${String((args[0] as { values?: unknown[] }).values?.[2] ?? "batch")})`);
        return (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    } as unknown as pg.Pool;
    const writer = new MessageWriter(watched);
    const first = writer
      .send(actor, room.id, "first", "n1")
      .then((r) => events.push(`answered ${r.message.body}`));
    // Queued while the first statement is in flight: it waits for it, then goes out at once.
    await new Promise((r) => setImmediate(r));
    const second = writer
      .send(actor, room.id, "second", "n2")
      .then((r) => events.push(`answered ${r.message.body}`));
    await Promise.all([first, second]);
    expect(events).toEqual(["statement (first)", "statement (second)", "answered first", "answered second"]);
  });
});
