// Users belong to exactly one client; every query is scoped by client_id.
import type pg from "pg";
import { notFound } from "./errors.js";

export interface User {
  id: string;
  external_id: string;
  display_name: string;
  email: string | null;
  created_at: Date;
}

const COLUMNS = "id, external_id, display_name, email, created_at";

export interface NewUser {
  external_id: string;
  display_name: string;
  email?: string | undefined;
}

/** Creates the user, or returns the existing one with that external_id (created: false). */
export async function upsertUser(
  pool: pg.Pool,
  clientId: string,
  input: NewUser,
): Promise<{ user: User; created: boolean }> {
  const inserted = await pool.query<User>(
    `INSERT INTO users (client_id, external_id, display_name, email) VALUES ($1, $2, $3, $4)
     ON CONFLICT ON CONSTRAINT users_client_external_id_key DO NOTHING
     RETURNING ${COLUMNS}`,
    [clientId, input.external_id, input.display_name, input.email ?? null],
  );
  if (inserted.rows[0]) return { user: inserted.rows[0], created: true };
  const { rows } = await pool.query<User>(
    `SELECT ${COLUMNS} FROM users WHERE client_id = $1 AND external_id = $2`,
    [clientId, input.external_id],
  );
  return { user: rows[0]!, created: false };
}

export async function getUser(pool: pg.Pool, clientId: string, userId: string): Promise<User> {
  const { rows } = await pool.query<User>(`SELECT ${COLUMNS} FROM users WHERE client_id = $1 AND id = $2`, [
    clientId,
    userId,
  ]);
  if (!rows[0]) throw notFound("user");
  return rows[0];
}
