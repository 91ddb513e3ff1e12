// Rooms and membership. A room belongs to one client; only its members see it. Anything the
// caller may not see answers 404, so existence never leaks across tenants or rooms.
import type pg from "pg";
import { ApiError, notFound } from "./errors.js";

export interface Room {
  id: string;
  name: string;
  created_at: Date;
  last_seq: number;
  member_ids: string[];
}

export interface Actor {
  userId: string;
  clientId: string;
}

const ROOM_SELECT = `SELECT r.id, r.name, r.created_at, r.last_seq,
       ARRAY(SELECT m.user_id FROM room_members m WHERE m.room_id = r.id ORDER BY m.joined_at, m.user_id) AS member_ids
  FROM rooms r`;

async function assertUsersInClient(db: pg.PoolClient | pg.Pool, clientId: string, userIds: string[]) {
  if (userIds.length === 0) return;
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM users WHERE client_id = $1 AND id = ANY($2::uuid[])",
    [clientId, userIds],
  );
  const found = new Set(rows.map((r) => r.id));
  const missing = userIds.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new ApiError(404, "user_not_found", `user not found: ${missing.join(", ")}`, { user_ids: missing });
  }
}

export async function createRoom(
  pool: pg.Pool,
  actor: Actor,
  name: string,
  memberIds: string[] = [],
): Promise<Room> {
  const members = [...new Set([actor.userId, ...memberIds])];
  const db = await pool.connect();
  try {
    await db.query("BEGIN");
    await assertUsersInClient(db, actor.clientId, members);
    const { rows } = await db.query<{ id: string }>(
      "INSERT INTO rooms (client_id, name, created_by) VALUES ($1, $2, $3) RETURNING id",
      [actor.clientId, name, actor.userId],
    );
    const roomId = rows[0]!.id;
    // Creator first, then the others in the order given: member_ids keeps that order.
    await db.query(
      `INSERT INTO room_members (room_id, user_id, joined_at)
       SELECT $1, m.id, now() + (m.ord * interval '1 microsecond') FROM unnest($2::uuid[]) WITH ORDINALITY AS m(id, ord)`,
      [roomId, members],
    );
    const room = await db.query<Room>(`${ROOM_SELECT} WHERE r.id = $1`, [roomId]);
    await db.query("COMMIT");
    return room.rows[0]!;
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    db.release();
  }
}

export async function listRooms(pool: pg.Pool, actor: Actor): Promise<Room[]> {
  const { rows } = await pool.query<Room>(
    `${ROOM_SELECT} JOIN room_members me ON me.room_id = r.id AND me.user_id = $1
      WHERE r.client_id = $2 ORDER BY r.created_at, r.id`,
    [actor.userId, actor.clientId],
  );
  return rows;
}

/** The room when the actor is a member of it (in their own tenant), else 404. */
export async function getRoomForMember(pool: pg.Pool, actor: Actor, roomId: string): Promise<Room> {
  const { rows } = await pool.query<Room>(
    `${ROOM_SELECT} JOIN room_members me ON me.room_id = r.id AND me.user_id = $2
      WHERE r.id = $1 AND r.client_id = $3`,
    [roomId, actor.userId, actor.clientId],
  );
  if (!rows[0]) throw notFound("room");
  return rows[0];
}

/** The room's last seq when the user is a member, else undefined (one indexed lookup). */
export async function memberLastSeq(
  pool: pg.Pool,
  actor: Actor,
  roomId: string,
): Promise<number | undefined> {
  const { rows } = await pool.query<{ last_seq: number }>({
    name: "member_last_seq",
    text: `SELECT r.last_seq FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = $2
            WHERE r.id = $1 AND r.client_id = $3`,
    values: [roomId, actor.userId, actor.clientId],
  });
  return rows[0]?.last_seq;
}

export async function addMember(pool: pg.Pool, actor: Actor, roomId: string, userId: string): Promise<void> {
  if ((await memberLastSeq(pool, actor, roomId)) === undefined) throw notFound("room");
  await assertUsersInClient(pool, actor.clientId, [userId]);
  await pool.query("INSERT INTO room_members (room_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
    roomId,
    userId,
  ]);
}

export async function removeMember(
  pool: pg.Pool,
  actor: Actor,
  roomId: string,
  userId: string,
): Promise<void> {
  if ((await memberLastSeq(pool, actor, roomId)) === undefined) throw notFound("room");
  const { rowCount } = await pool.query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2", [
    roomId,
    userId,
  ]);
  if (!rowCount) throw new ApiError(404, "member_not_found", "that user is not a member of this room");
}
