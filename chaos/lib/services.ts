// The shared test services scripts/setup started (addresses in ~/.cache/chatapi), and
// throwaway databases on the shared PostgreSQL: used by the fault scenarios and the attacks.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** Reads the addresses scripts/setup wrote (vitest's setup file does the same). */
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

export function required(name: string): string {
  loadServicesEnv();
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: the test services were never set up; run scripts/setup --for test`);
  return value;
}

export const suffix = (): string => randomBytes(5).toString("hex");

export interface Database {
  name: string;
  url: string;
  /** Drops it (connections forced out); a server already gone is not an error. */
  drop(): Promise<void>;
}

/** A new empty database beside `adminUrl` (a URL with CREATEDB rights). */
export async function createDatabase(adminUrl: string, prefix: string): Promise<Database> {
  const name = `${prefix}_${suffix()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      try {
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch {
        // A private cluster may already be gone; its directory is removed with it.
      } finally {
        await c.end().catch(() => undefined);
      }
    },
  };
}
