// Test databases, environments and app processes against the services scripts/setup started.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { migrateUp } from "../../src/db/migrate.js";

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the test services were never set up; run scripts/setup`);
  return value;
}

export const uniqueSuffix = () => randomBytes(5).toString("hex");

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A throwaway database (chatapi_t_<random>), migrated unless told otherwise. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = required("CHATAPI_TEST_DATABASE_URL");
  const name = `chatapi_t_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (options.migrate !== false) await migrateUp(url.toString());
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const TEST_SECRET_KEY = "test-secret-key-0123456789abcdef0123456789";

/** Environment for an app instance on the shared services, isolated by a Redis prefix. */
export function appEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: required("CHATAPI_TEST_REDIS_URL"),
    RABBITMQ_URL: required("CHATAPI_TEST_RABBITMQ_URL"),
    SECRET_KEY: TEST_SECRET_KEY,
    REDIS_KEY_PREFIX: `chatapi-test-${uniqueSuffix()}:`,
    LOG_LEVEL: "WARNING",
    PORT: "0",
    DATABASE_POOL_SIZE: "4",
    DATABASE_MAX_OVERFLOW: "4",
    ...extra,
  };
}

/** Registers an admin client straight in the database; returns its API key. */
export async function createAdminKey(databaseUrl: string): Promise<string> {
  const { createPool } = await import("../../src/db/pool.js");
  const { createClient } = await import("../../src/domain/clients.js");
  const pool = createPool({ databaseUrl, poolSize: 1, maxOverflow: 0 });
  try {
    const { apiKey } = await createClient(pool, {
      name: "Admin",
      email: `admin-${uniqueSuffix()}@example.com`,
      is_admin: true,
    });
    return apiKey;
  } finally {
    await pool.end();
  }
}

/** Loads the service addresses scripts/setup wrote (vitest does this in its setup file; scripts call it). */
export function loadServicesEnv(): void {
  const dir = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");
  for (const file of ["services.env", "services.urls.env", "tools.env"]) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
    }
  }
}
