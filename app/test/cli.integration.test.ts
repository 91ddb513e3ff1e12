// The `chatapi` command line: version, usage errors, configuration errors, migrate and the
// idempotent admin bootstrap (create-client), run as real processes.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool } from "../src/db/pool.js";
import { clientForApiKey } from "../src/domain/clients.js";
import { assertBuildCurrent, CLI } from "../../toolbox/processes.js";
import { createTestDatabase, type TestDatabase } from "./support/services.js";

const exec = promisify(execFile);
let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), "chatapi-cli-"));

async function chatapi(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: db.url, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  assertBuildCurrent();
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describe("chatapi", () => {
  it("--version prints the version; no command prints usage (exit 2); unknown commands exit 2", async () => {
    expect(await chatapi(["--version"])).toMatchObject({ code: 0, stdout: "1.0.0\n" });
    const none = await chatapi([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain("Usage: chatapi <command>");
    const unknown = await chatapi(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect((await chatapi(["serve", "--bogus"])).code).toBe(2);
  });

  it("invalid configuration stops at start with one message listing every bad variable, no secret shown", async () => {
    const r = await chatapi(["serve"], {
      DATABASE_POOL_SIZE: "lots",
      SECRET_KEY: "tooshort-s3cr3t",
      REDIS_URL: "http://wrong:pa55word@host",
      ACCESS_TOKEN_EXPIRE_MINUTES: "-5",
    });
    expect(r.code).toBe(78);
    expect(r.stderr.match(/Invalid configuration/g)).toHaveLength(1);
    for (const name of ["ACCESS_TOKEN_EXPIRE_MINUTES", "DATABASE_POOL_SIZE", "REDIS_URL", "SECRET_KEY"]) {
      expect(r.stderr).toContain(`  - ${name}:`);
    }
    expect(r.stderr).not.toContain("s3cr3t");
    expect(r.stderr).not.toContain("pa55word");
  });

  it("migrate is safe to run twice", async () => {
    expect(await chatapi(["migrate"])).toMatchObject({
      code: 0,
      stdout: "schema is up to date (no migration applied)\n",
    });
    expect(JSON.parse((await chatapi(["migrate", "--json"])).stdout)).toEqual({ applied: [] });
  });

  it("create-client generates a key shown once and is idempotent by email", async () => {
    const first = await chatapi([
      "create-client",
      "--name",
      "Admin",
      "--email",
      "admin@example.com",
      "--admin",
      "--json",
    ]);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { id: string; api_key: string; created: boolean };
    expect(created).toMatchObject({ created: true });
    expect(Object.keys(created).sort()).toEqual(["api_key", "created", "id"]);
    const second = await chatapi([
      "create-client",
      "--name",
      "Admin",
      "--email",
      "ADMIN@example.com",
      "--admin",
      "--json",
    ]);
    expect(JSON.parse(second.stdout)).toEqual({ id: created.id, created: false });
    const text = await chatapi(["create-client", "--name", "Admin", "--email", "admin@example.com"]);
    expect(text.stdout).toContain("already exists");
    expect(text.stdout).not.toContain("cak_");
    const pool = createPool({ databaseUrl: db.url, poolSize: 1, maxOverflow: 0 });
    try {
      expect(await clientForApiKey(pool, created.api_key)).toMatchObject({ id: created.id, is_admin: true });
    } finally {
      await pool.end();
    }
  });

  it("create-client --api-key-file registers that key without ever printing it", async () => {
    const key = "toolkit-generated-admin-key-0123456789abcdef";
    const keyFile = join(dir, "admin_api_key");
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const args = [
      "create-client",
      "--name",
      "Ops",
      "--email",
      "ops@example.com",
      "--admin",
      "--api-key-file",
      keyFile,
      "--json",
    ];
    const first = await chatapi(args);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { id: string };
    expect(JSON.parse(first.stdout)).toEqual({ id: created.id, created: true });
    const again = await chatapi(args);
    expect(JSON.parse(again.stdout)).toEqual({ id: created.id, created: false });
    for (const output of [first.stdout, first.stderr, again.stdout, again.stderr])
      expect(output).not.toContain(key);
    const pool = createPool({ databaseUrl: db.url, poolSize: 1, maxOverflow: 0 });
    try {
      expect(await clientForApiKey(pool, key)).toMatchObject({ id: created.id, is_admin: true });
    } finally {
      await pool.end();
    }
    // A different key for the same email changes nothing and says so (without printing it).
    writeFileSync(keyFile, "another-key-abcdefghijklmnopqrstuvwxyz");
    const other = await chatapi(args);
    expect(JSON.parse(other.stdout)).toEqual({ id: created.id, created: false });
    expect(other.stderr).toContain("not one of its keys");
    expect(other.stderr).not.toContain("another-key");
  });

  it("create-client --id gives the new client that id; again, or with another id, it changes nothing", async () => {
    const id = "3f0c9a52-4b1e-4d7a-9a63-0f6a8c1d2e4b";
    const args = ["create-client", "--name", "Fixed", "--email", "fixed@example.com", "--id", id, "--json"];
    const first = await chatapi(args);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ id, created: true });
    expect(JSON.parse((await chatapi(args)).stdout)).toEqual({ id, created: false });
    const other = await chatapi([
      ...args.slice(0, -3),
      "--id",
      "9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d0e",
      "--json",
    ]);
    expect(JSON.parse(other.stdout)).toEqual({ id, created: false });
    expect(other.stderr).toContain(`its id is ${id}`);
    // The id of an existing client cannot be taken by a new email.
    const clash = await chatapi(["create-client", "--name", "B", "--email", "b@example.com", "--id", id]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`a client with id ${id} already exists`);
    const bad = await chatapi(["create-client", "--name", "B", "--email", "b@example.com", "--id", "42"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--id must be a UUID");
  });

  it("create-client names what is wrong with its arguments", async () => {
    const r = await chatapi([
      "create-client",
      "--name",
      "X",
      "--email",
      "nope",
      "--api-key-file",
      join(dir, "missing"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--email must be an email address");
    expect(r.stderr).toContain("--api-key-file: cannot read");
    const weak = join(dir, "weak");
    writeFileSync(weak, "short");
    const w = await chatapi([
      "create-client",
      "--name",
      "X",
      "--email",
      "x@example.com",
      "--api-key-file",
      weak,
    ]);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain("at least 24 characters");
  });

  it("worker, backup and restore reject unknown options and missing arguments with exit 2", async () => {
    const worker = await chatapi(["worker", "--bogus"]);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain("--bogus");
    const daemon = await chatapi(["backup", "--daemon"]);
    expect(daemon.code).toBe(2);
    expect(daemon.stderr).toContain("--daemon needs BACKUP_SCHEDULE");
    const restore = await chatapi(["restore", "a.sql.gz", "b.sql.gz"]);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain("restore takes one backup, got 2");
  });
});
