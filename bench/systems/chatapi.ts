// ChatAPI under test: a throwaway database on the shared PostgreSQL, `chatapi migrate`, an admin
// client from `chatapi create-client`, then N `chatapi serve` processes (two unless said) from
// app/dist with the production defaults (INFO logs, pool 10 + 10), and a tenant with R rooms × M
// users over REST.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { run } from "../../toolbox/exec";
import { assertBuildCurrent, startServer, type ServerProcess } from "../../toolbox/processes";
import { createBenchDatabase } from "./bench-database";
import type { BenchRoom, RunningSystem } from "./types";

const ROOT = join(__dirname, "..", "..");

/**
 * Documented knobs every benchmark run needs, the CI test included: a closed-loop sender passes
 * the default 200 frames/s per socket (it would be closed with 4008), the generator opens
 * thousands of sockets from one address, and a long run outlives the default token lifetime.
 */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  ACCESS_TOKEN_EXPIRE_MINUTES: "600",
  WS_SEND_RATE_PER_SECOND: "1000000",
  WS_MAX_CONNECTIONS_PER_ADDRESS: "1000000",
};

export interface ChatApiOptions {
  adminDatabaseUrl: string;
  redisUrl: string;
  rabbitmqUrl: string;
  logDir: string;
  rooms: number;
  members: number;
  /** How many `chatapi serve` instances (default 2, named a, b, c ...; npm run bench:cost: 1, 2, 4). */
  instances?: number;
  /** Environment for the instances on top of BENCH_ENV (documented knobs only). */
  env?: Record<string, string>;
  /** Node.js flags for the servers (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Results key (default "chatapi"); a second build runs as e.g. "chatapi-baseline". */
  name?: string;
  /** The app directory whose dist/cli.js runs (default: this checkout's app/). */
  appDir?: string;
}

export interface ChatApiSystem extends RunningSystem {
  databaseUrl: string;
  /** The admin client's API key (more tenants: bench:redis-cluster). */
  adminKey: string;
  /** Counts the stored messages whose body starts with a prefix (the persistence check). */
  countStored(bodyPrefix: string): Promise<number>;
  /** last_seq of every room. */
  roomHeads(): Promise<Map<string, number>>;
}

/** Instance names a, b, c ... (the log files and INSTANCE_NAME of npm run bench keep a and b). */
export function instanceNames(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 26)
    throw new Error(`instances must be a whole number from 1 to 26 (got ${count})`);
  return Array.from({ length: count }, (_, i) => String.fromCharCode(0x61 + i));
}

export async function startChatApi(options: ChatApiOptions): Promise<ChatApiSystem> {
  const names = instanceNames(options.instances ?? 2);
  const appDir = options.appDir ?? join(ROOT, "app");
  const cli = join(appDir, "dist", "cli.js");
  assertBuildCurrent(appDir);
  const database = await createBenchDatabase(options.adminDatabaseUrl, "chatapi");
  const databaseUrl = database.url;
  const instances: ServerProcess[] = [];
  try {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: databaseUrl,
      REDIS_URL: options.redisUrl,
      RABBITMQ_URL: options.rabbitmqUrl,
      SECRET_KEY: randomBytes(32).toString("hex"),
      REDIS_KEY_PREFIX: `chatapi-bench-${randomBytes(4).toString("hex")}:`,
      PORT: "0",
      ...BENCH_ENV,
      ...options.env,
    };
    await run(process.execPath, [cli, "migrate"], { env, extendEnv: false });
    const created = await run(
      process.execPath,
      [cli, "create-client", "--name", "Bench admin", "--email", "admin@bench.invalid", "--admin", "--json"],
      { env, extendEnv: false },
    );
    const adminKey = (JSON.parse(created.stdout) as { api_key: string }).api_key;
    for (const name of names) {
      instances.push(
        await startServer({
          command: process.execPath,
          args: [...(options.nodeArgs ?? []), cli, "serve"],
          env: { ...env, INSTANCE_NAME: `bench-${name}` },
          logFile: join(options.logDir, `${options.name ?? "chatapi"}-${name}.log`),
          portPattern: /"port":(\d+).*listening on/,
        }),
      );
    }
    const rooms = await createTenant(
      instances.map((i) => i.base),
      adminKey,
      options.rooms,
      options.members,
    );
    return {
      name: options.name ?? "chatapi",
      protocol: "chatapi",
      label: "ChatAPI (persists every message)",
      instances,
      rooms,
      databaseUrl,
      adminKey,
      countStored: database.countStored,
      helperPids: database.helperPids,
      roomHeads: async () => {
        const rows = await database.query<{ id: string; last_seq: number }>("SELECT id, last_seq FROM rooms");
        return new Map(rows.map((row) => [row.id, Number(row.last_seq)]));
      },
      stop: async () => {
        await Promise.all(instances.map((i) => i.stop()));
        await database.drop();
      },
    };
  } catch (error) {
    await Promise.all(instances.map((i) => i.stop()));
    await database.drop();
    throw error;
  }
}

async function call<T>(
  base: string,
  method: string,
  path: string,
  auth: Record<string, string>,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { ...auth, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** One client, R rooms of M distinct users each (REST calls spread over the instances). */
async function createTenant(
  bases: string[],
  adminKey: string,
  roomCount: number,
  memberCount: number,
): Promise<BenchRoom[]> {
  const base = (i: number) => bases[i % bases.length]!;
  const client = await call<{ api_key: string }>(
    base(0),
    "POST",
    "/clients",
    { "x-api-key": adminKey },
    {
      name: "Bench tenant",
      email: `bench-${randomBytes(4).toString("hex")}@bench.invalid`,
    },
  );
  const key = { "x-api-key": client.api_key };
  const users: Array<{ id: string; token: string }> = new Array(roomCount * memberCount);
  let next = 0;
  const lane = async () => {
    while (next < users.length) {
      const i = next++;
      const user = await call<{ id: string }>(base(i), "POST", "/users", key, {
        external_id: `bench-${i}`,
        display_name: `Bench ${i}`,
      });
      const tokens = await call<{ access_token: string }>(base(i), "POST", "/auth/token", key, {
        user_id: user.id,
      });
      users[i] = { id: user.id, token: tokens.access_token };
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  const rooms: BenchRoom[] = [];
  for (let r = 0; r < roomCount; r++) {
    const members = users.slice(r * memberCount, (r + 1) * memberCount);
    const room = await call<{ id: string }>(
      base(r),
      "POST",
      "/rooms",
      { authorization: `Bearer ${members[0]!.token}` },
      {
        name: `bench room ${r}`,
        member_ids: members.slice(1).map((m) => m.id),
      },
    );
    rooms.push({ key: room.id, members: members.map((m) => m.token) });
  }
  return rooms;
}
