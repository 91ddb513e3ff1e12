// Batched writes to one room: gapless seqs in request order, per-item answers (created,
// duplicate, not a member) even when one batch mixes them.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool } from "../src/db/pool.js";
import { createClient } from "../src/domain/clients.js";
import { MessageWriter } from "../src/domain/message-writer.js";
import { createRoom } from "../src/domain/rooms.js";
import { upsertUser } from "../src/domain/users.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";

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

    // All queued in one tick: the first goes alone, the rest form one batch behind it.
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
});
