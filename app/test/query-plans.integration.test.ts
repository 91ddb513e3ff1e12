// The hot statements must read messages by index at any table size. Their plans are generic and
// cached per connection (db/pool.ts), so a plan made on a nearly empty database, right after a
// deploy, is kept while the table grows: a full scan chosen then costs more with every message
// (the batch insert once read the whole messages table per batch). This test makes every plan on
// an empty database, as a fresh deploy does, and then counts full scans of the big tables.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool } from "../src/db/pool.js";
import { clientForApiKey, createClient } from "../src/domain/clients.js";
import { MessageWriter } from "../src/domain/message-writer.js";
import { historyPageJson, messagesAfter } from "../src/domain/messages.js";
import { createRoom, memberLastSeq, type Actor } from "../src/domain/rooms.js";
import { upsertUser } from "../src/domain/users.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";

const WATCHED = ["messages", "rooms", "room_members"];

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** Sequential scans so far per watched table (a fresh connection sees the latest counts). */
async function seqScans(): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ relname: string; seq_scan: string }>(
      "SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname = ANY($1)",
      [WATCHED],
    );
    return Object.fromEntries(rows.map((r) => [r.relname, Number(r.seq_scan)]));
  } finally {
    await c.end();
  }
}

/**
 * A backend reports its table counters at most once a second; this makes the pool's (one)
 * backend report them as it finishes this query, before it answers, so a reader sees them.
 */
async function flushStats(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT pg_stat_force_next_flush()");
}

describe("query plans made on an empty database", () => {
  it("send (batched and single), history, replay and membership never scan messages, rooms or room_members in full", async () => {
    // Set-up on its own pool, so its scans are counted before the work to watch starts.
    const setup = createPool({ databaseUrl: db.url, poolSize: 1, maxOverflow: 0 });
    const { client, apiKey } = await createClient(setup, { name: "P", email: "p@example.com" });
    const actors: Actor[] = [];
    for (const id of ["ann", "ben", "cid"]) {
      const { user } = await upsertUser(setup, client.id, { external_id: id, display_name: id });
      actors.push({ userId: user.id, clientId: client.id });
    }
    const rooms = [];
    for (let i = 0; i < 4; i++) {
      rooms.push(await createRoom(setup, actors[0]!, `r${i}`, [actors[1]!.userId, actors[2]!.userId]));
    }
    await flushStats(setup);
    await setup.end();
    const before = await seqScans();

    // One connection, so each statement is prepared once, while messages is still empty.
    const pool = createPool({ databaseUrl: db.url, poolSize: 1, maxOverflow: 0 });
    const writer = new MessageWriter(pool);
    let n = 0;
    for (let round = 0; round < 30; round++) {
      // A tick's sends over several rooms (the batch statement), then a lone send (the single one).
      await Promise.all(
        rooms.flatMap((room) => actors.map((actor) => writer.send(actor, room.id, `m${n}`, `c${n++}`))),
      );
      await writer.send(actors[round % 3]!, rooms[round % 4]!.id, `m${n}`, `c${n++}`);
      await writer.send(actors[0]!, rooms[0]!.id, "no id", undefined);
    }
    const [ann] = actors;
    const room = rooms[0]!;
    const latest = JSON.parse(
      await historyPageJson(pool, ann!, room.id, { beforeSeq: 1e9, limit: 20 }),
    ) as unknown[];
    const first = JSON.parse(
      await historyPageJson(pool, ann!, room.id, { afterSeq: 0, limit: 20 }),
    ) as unknown[];
    const replay = await messagesAfter(pool, room.id, 5, 50);
    const head = await memberLastSeq(pool, ann!, room.id);
    const found = await clientForApiKey(pool, apiKey);
    await flushStats(pool);
    await pool.end();
    const after = await seqScans();

    // The work really happened (so zero scans is not zero work).
    expect(n).toBe(30 * (12 + 1));
    expect([latest.length, first.length, replay.length]).toEqual([20, 20, 50]);
    // Room 0 per round: 3 batched sends and the id-less one; every 4th round the lone send too.
    expect(head).toBe(30 * 4 + 8);
    expect(found?.id).toBe(client.id);
    const scans = Object.fromEntries(WATCHED.map((t) => [t, (after[t] ?? 0) - (before[t] ?? 0)]));
    expect(scans).toEqual({ messages: 0, rooms: 0, room_members: 0 });
  });
});
