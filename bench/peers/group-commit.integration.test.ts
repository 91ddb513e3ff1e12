// The durable floor's group commit against a real PostgreSQL: sends of one tick share one
// statement, and each send gets back the id of its own row (ids map back by insert order).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServices } from "../lib/services";
import { type BenchDatabase, createBenchDatabase } from "../systems/bench-database";
import { MESSAGES_TABLE } from "../systems/peers";
import { GroupCommit } from "./group-commit";

let database: BenchDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createBenchDatabase(loadServices().databaseUrl, "group_commit");
  await database.query(MESSAGES_TABLE);
  pool = new pg.Pool({ connectionString: database.url, max: 1 });
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe("GroupCommit", () => {
  it("writes the sends of one tick in one statement, each answered with its own row's id", async () => {
    const writer = new GroupCommit(pool);
    const bodies = Array.from({ length: 40 }, (_, i) => `body-${i}`);
    const stored = await Promise.all(bodies.map((body, i) => writer.add(`room-${i % 3}`, "u", body)));
    const { rows } = await pool.query<{ id: string; body: string; n: string }>(
      "SELECT id, body, count(*) OVER () AS n FROM messages ORDER BY id",
    );
    expect(rows).toHaveLength(40);
    const bodyOf = new Map(rows.map((r) => [r.id, r.body]));
    expect(stored.map((s) => bodyOf.get(s.id))).toEqual(bodies);
    // One statement: the ids are consecutive in arrival order.
    expect(stored.map((s) => Number(s.id) - Number(stored[0]!.id))).toEqual(bodies.map((_, i) => i));
  });

  it("rejects every send of a failed statement and writes the next ones", async () => {
    const writer = new GroupCommit(pool);
    const failed = writer.add("room", "u", "x\u0000"); // PostgreSQL text cannot hold NUL
    await expect(failed).rejects.toThrow();
    const next = await writer.add("room", "u", "after");
    const { rows } = await pool.query<{ body: string }>("SELECT body FROM messages WHERE id = $1", [next.id]);
    expect(rows[0]?.body).toBe("after");
  });
});
