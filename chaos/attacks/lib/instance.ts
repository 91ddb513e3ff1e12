// Real API instances for the attacks: `node app/dist/cli.js serve` as a child process on a random
// loopback port, each with a throwaway database on the shared PostgreSQL and its own Redis key
// prefix, every line it logs kept (the secret-leak attack greps them).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createDatabase, required, suffix } from "../../lib/services";

export const repoRoot = resolve(__dirname, "..", "..", "..");
const CLI = join(repoRoot, "app", "dist", "cli.js");

/** Runs a one-shot CLI command; resolves with its output, rejects on a non-zero exit. */
export function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error
          ? fail(new Error(`chatapi ${args[0]} failed: ${error.message}\n${stderr}`))
          : done({ stdout, stderr }),
    );
  });
}

/** Secrets an instance runs with (the leak attack searches for every one of them). */
export interface InstanceSecrets {
  SECRET_KEY: string;
  DATABASE_URL: string;
  RABBITMQ_URL: string;
  adminApiKey: string;
}

export interface Instance {
  url: string;
  port: number;
  pid: number;
  /** The environment `serve` runs with. */
  env: Record<string, string>;
  secrets: InstanceSecrets;
  /** Every stdout/stderr line so far. */
  output: string[];
  /** Resident set size (bytes) from /proc. */
  rss(): number;
  alive(): boolean;
  /** Another `serve` on the same database and Redis prefix (a second instance of one deployment). */
  sibling(name: string): Promise<Instance>;
  stop(): Promise<void>;
}

export interface InstanceOptions {
  env?: Record<string, string>;
  /** Changes for `serve` only, after migration and admin setup (e.g. DATABASE_URL through a proxy). */
  serveEnv?: (env: Record<string, string>) => Record<string, string>;
  logLevel?: string;
}

/** `serve` with `env` as a child process; resolves once it listens. */
async function serve(
  env: Record<string, string>,
  secrets: InstanceSecrets,
  dropDatabase: () => Promise<void>,
) {
  const child = spawn(process.execPath, [CLI, "serve"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const port = await listeningPort(child, output);
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else
      child.once("exit", (code, signal) => {
        output.push(`(chatapi serve exited: code ${code}, signal ${signal})`);
        done();
      });
  });
  const instance: Instance = {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    env,
    secrets,
    output,
    rss: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    sibling: (name) => serve({ ...env, INSTANCE_NAME: name }, secrets, async () => undefined),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
      await dropDatabase();
    },
  };
  return instance;
}

/** A fresh database, migrated, with an admin client; then `serve` on a random port. */
export async function startInstance(options: InstanceOptions = {}): Promise<Instance> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const stale = statSync(join(repoRoot, "app", "src", "server.ts")).mtimeMs > statSync(CLI).mtimeMs;
  if (stale) throw new Error("app/dist is older than app/src: run npm run build");
  const db = await createDatabase(required("CHATAPI_TEST_DATABASE_URL"), "chatapi_t");
  const secretKey = `chaos-${randomBytes(24).toString("base64url")}`;
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: required("CHATAPI_TEST_REDIS_URL"),
    RABBITMQ_URL: required("CHATAPI_TEST_RABBITMQ_URL"),
    SECRET_KEY: secretKey,
    REDIS_KEY_PREFIX: `chatapi-chaos-${suffix()}:`,
    LOG_LEVEL: options.logLevel ?? "INFO",
    PORT: "0",
    INSTANCE_NAME: `chaos-${suffix()}`,
    DATABASE_POOL_SIZE: "4",
    DATABASE_MAX_OVERFLOW: "4",
    ...options.env,
  };
  try {
    await cli(["migrate"], env);
    const adminKey = `cak_admin_${randomBytes(24).toString("base64url")}`;
    const keyFile = join("/tmp", `chaos-admin-key-${suffix()}`);
    const { writeFileSync, rmSync } = await import("node:fs");
    writeFileSync(keyFile, adminKey, { mode: 0o600 });
    try {
      await cli(
        [
          "create-client",
          "--name",
          "Admin",
          "--email",
          `admin-${suffix()}@example.com`,
          "--admin",
          "--api-key-file",
          keyFile,
          "--json",
        ],
        env,
      );
    } finally {
      rmSync(keyFile, { force: true });
    }
    return await serve(
      { ...env, ...options.serveEnv?.(env) },
      { SECRET_KEY: secretKey, DATABASE_URL: db.url, RABBITMQ_URL: env.RABBITMQ_URL!, adminApiKey: adminKey },
      () => db.drop(),
    );
  } catch (error) {
    await db.drop();
    throw error;
  }
}

function listeningPort(child: ChildProcess, output: string[]): Promise<number> {
  return new Promise<number>((done, fail) => {
    let buffer = "";
    const collect = (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        const match = /"port":(\d+).*listening on/.exec(line);
        if (match) {
          // Started: the start deadline no longer applies (it killed instances older than 60 s).
          clearTimeout(deadline);
          done(Number(match[1]));
        }
      }
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    child.once("exit", (code) => fail(new Error(`chatapi serve exited with ${code}:\n${output.join("\n")}`)));
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`chatapi serve did not start within 60 s:\n${output.join("\n")}`));
    }, 60_000);
    deadline.unref();
  });
}
