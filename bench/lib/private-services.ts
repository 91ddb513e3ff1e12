// --private-services: the benchmark's own PostgreSQL and Redis (same binaries and default
// durability as the shared ones: fsync on, synchronous_commit on), so other work on the shared
// services (other tests' databases committing to the same WAL, their Redis traffic) does not
// land in the figures, and --nice can raise them together with the systems under test.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { sleep } from "./clock";
import type { Services } from "./services";

const run = promisify(execFile);
const PG_BIN = "/usr/lib/postgresql/15/bin";

export interface PrivateServices extends Services {
  pids(): number[];
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} did not start within 60 s`);
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill(signal);
  });
}

export async function startPrivateServices(rabbitmqUrl: string): Promise<PrivateServices> {
  if (!existsSync(join(PG_BIN, "initdb")))
    throw new Error(`--private-services needs PostgreSQL 15 in ${PG_BIN}`);
  const dir = mkdtempSync(join(tmpdir(), "chatapi-bench-services-"));
  const children: ChildProcess[] = [];
  try {
    // PostgreSQL refuses to run as root: as root, the data directory belongs to `postgres`.
    const asRoot = userInfo().uid === 0;
    const pgDir = join(dir, "pg");
    const as = (args: string[]) =>
      (asRoot ? ["runuser", ["-u", "postgres", "--", ...args]] : [args[0]!, args.slice(1)]) as [
        string,
        string[],
      ];
    await run("mkdir", ["-p", pgDir]);
    if (asRoot) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      chownSync(dir, Number(stdout), Number(gid));
      chownSync(pgDir, Number(stdout), Number(gid));
    }
    const [initCmd, initArgs] = as([
      join(PG_BIN, "initdb"),
      "-D",
      pgDir,
      "-U",
      "chatapi",
      "-A",
      "trust",
      "--no-sync",
    ]);
    await run(initCmd, initArgs);
    const pgPort = await freePort();
    const [pgCmd, pgArgs] = as([
      join(PG_BIN, "postgres"),
      "-D",
      pgDir,
      "-p",
      String(pgPort),
      "-k",
      pgDir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=200",
      "-c",
      "shared_buffers=256MB",
      "-c",
      "fsync=on",
      "-c",
      "synchronous_commit=on",
    ]);
    const postgres = spawn(pgCmd, pgArgs, { stdio: "ignore" });
    children.push(postgres);
    const databaseUrl = `postgresql://chatapi@127.0.0.1:${pgPort}/postgres`;
    await waitUntil(
      "private PostgreSQL",
      async () => {
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        await c.end();
        return true;
      },
      postgres,
    );

    const redisPort = await freePort();
    const redis = spawn(
      "redis-server",
      ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: "ignore" },
    );
    children.push(redis);
    const redisUrl = `redis://127.0.0.1:${redisPort}/0`;
    await waitUntil(
      "private Redis",
      async () => {
        const r = new Redis(redisUrl, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        r.on("error", () => undefined); // connect() rejects with it while Redis is starting
        try {
          await r.connect();
          return (await r.ping()) === "PONG";
        } finally {
          r.disconnect();
        }
      },
      redis,
    );

    return {
      databaseUrl,
      redisUrl,
      rabbitmqUrl,
      // runuser forks postgres as its child: the postmaster is runuser's child, found via /proc.
      pids: () => [postgres.pid!, redis.pid!, ...childPids(postgres.pid!)],
      stop: async () => {
        const [stopCmd, stopArgs] = as([join(PG_BIN, "pg_ctl"), "stop", "-D", pgDir, "-m", "fast"]);
        await run(stopCmd, stopArgs).catch(() => undefined);
        await Promise.all([stopChild(postgres, "SIGTERM"), stopChild(redis, "SIGTERM")]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(children.map((c) => stopChild(c, "SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Direct children of a process (from /proc/<pid>/task/<pid>/children). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
