// Clients (tenants) and their API keys.
import type pg from "pg";
import { isUniqueViolation } from "../db/pool.js";
import { ApiError, notFound } from "./errors.js";
import { digest, newApiKey } from "./secrets.js";

export interface Client {
  id: string;
  name: string;
  email: string;
  is_admin: boolean;
  created_at: Date;
}

const COLUMNS = "id, name, email, is_admin, created_at";

export interface NewClient {
  name: string;
  email: string;
  is_admin?: boolean;
  /** An operator-supplied key; a random one is generated when absent. */
  apiKey?: string;
  /** A caller-chosen id (a deployment tool that generated it); the database picks one when absent. */
  id?: string;
}

/** Creates a client and its first API key in one transaction; 409 when the email is taken. */
export async function createClient(
  pool: pg.Pool,
  input: NewClient,
): Promise<{ client: Client; apiKey: string }> {
  const apiKey = input.apiKey ?? newApiKey();
  const db = await pool.connect();
  try {
    await db.query("BEGIN");
    const { rows } = await db.query<Client>(
      `INSERT INTO clients (id, name, email, is_admin) VALUES (COALESCE($4::uuid, gen_random_uuid()), $1, $2, $3) RETURNING ${COLUMNS}`,
      [input.name, input.email, input.is_admin ?? false, input.id ?? null],
    );
    const client = rows[0]!;
    await db.query("INSERT INTO api_keys (client_id, key_hash) VALUES ($1, $2)", [client.id, digest(apiKey)]);
    await db.query("COMMIT");
    return { client, apiKey };
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    if (isUniqueViolation(error, "clients_email_key")) {
      throw new ApiError(409, "client_exists", `a client with email ${input.email} already exists`);
    }
    if (isUniqueViolation(error, "clients_pkey")) {
      throw new ApiError(409, "client_exists", `a client with id ${input.id ?? ""} already exists`);
    }
    if (isUniqueViolation(error, "api_keys_key_hash_key")) {
      throw new ApiError(409, "api_key_exists", "that API key is already registered");
    }
    throw error;
  } finally {
    db.release();
  }
}

/** One more API key for an existing client (shown once, like the first). */
export async function addApiKey(pool: pg.Pool, clientId: string): Promise<string> {
  const apiKey = newApiKey();
  await pool.query("INSERT INTO api_keys (client_id, key_hash) VALUES ($1, $2)", [clientId, digest(apiKey)]);
  return apiKey;
}

export async function findClientByEmail(pool: pg.Pool, email: string): Promise<Client | undefined> {
  const { rows } = await pool.query<Client>(`SELECT ${COLUMNS} FROM clients WHERE lower(email) = lower($1)`, [
    email,
  ]);
  return rows[0];
}

export async function listClients(pool: pg.Pool): Promise<Client[]> {
  const { rows } = await pool.query<Client>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, id`);
  return rows;
}

export async function getClient(pool: pg.Pool, id: string): Promise<Client> {
  const { rows } = await pool.query<Client>(`SELECT ${COLUMNS} FROM clients WHERE id = $1`, [id]);
  if (!rows[0]) throw notFound("client");
  return rows[0];
}

/** The client owning a (non-revoked) API key, or undefined. */
export async function clientForApiKey(pool: pg.Pool, apiKey: string): Promise<Client | undefined> {
  const { rows } = await pool.query<Client>({
    name: "client_for_api_key",
    text: `SELECT c.id, c.name, c.email, c.is_admin, c.created_at
             FROM api_keys k JOIN clients c ON c.id = k.client_id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    values: [digest(apiKey)],
  });
  return rows[0];
}

export async function clientHasApiKey(pool: pg.Pool, clientId: string, apiKey: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    "SELECT 1 FROM api_keys WHERE client_id = $1 AND key_hash = $2 AND revoked_at IS NULL",
    [clientId, digest(apiKey)],
  );
  return (rowCount ?? 0) > 0;
}
