// One scenario's deployment: a throwaway database (on the shared PostgreSQL or a private one),
// migrated by `chatapi migrate`, a tenant from `chatapi create-client`, users and rooms over
// REST, and any number of `chatapi serve` instances. dispose() stops and drops everything.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type Instance, runCli, startInstance } from "../../toolbox/processes";
import { type Database, createDatabase, loadServicesEnv, required, suffix } from "./services";

export { loadServicesEnv, required, suffix } from "./services";

export interface StackOptions {
  /** A database URL with CREATEDB rights; the scenario's database is created next to it. */
  adminDatabaseUrl?: string;
  redisUrl?: string;
  rabbitmqUrl?: string;
  env?: Record<string, string>;
}

export interface Tenant {
  apiKey: string;
  users: { id: string; token: string }[];
  rooms: string[];
}

export class Stack {
  readonly instances: Instance[] = [];
  readonly env: Record<string, string>;
  readonly pool: pg.Pool;
  readonly databaseUrl: string;

  private constructor(
    private readonly database: Database,
    options: StackOptions,
  ) {
    this.databaseUrl = database.url;
    this.env = {
      DATABASE_URL: database.url,
      REDIS_URL: options.redisUrl ?? required("CHATAPI_TEST_REDIS_URL"),
      RABBITMQ_URL: options.rabbitmqUrl ?? required("CHATAPI_TEST_RABBITMQ_URL"),
      SECRET_KEY: randomBytes(32).toString("hex"),
      REDIS_KEY_PREFIX: `chatapi-chaos-${suffix()}:`,
      LOG_LEVEL: "WARNING",
      DATABASE_POOL_SIZE: "4",
      DATABASE_MAX_OVERFLOW: "4",
      ...options.env,
    };
    this.pool = new pg.Pool({ connectionString: database.url, max: 2 });
    this.pool.on("error", () => undefined);
  }

  static async create(options: StackOptions = {}): Promise<Stack> {
    loadServicesEnv();
    const adminUrl = options.adminDatabaseUrl ?? required("CHATAPI_TEST_DATABASE_URL");
    const database = await createDatabase(adminUrl, "chatapi_t_chaos");
    const stack = new Stack(database, options);
    const migrated = await runCli(["migrate"], stack.env);
    if (migrated.code !== 0) throw new Error(`chatapi migrate failed: ${migrated.stderr}${migrated.stdout}`);
    return stack;
  }

  async startInstance(name: string, env: Record<string, string> = {}): Promise<Instance> {
    const instance = await startInstance(name, { ...this.env, ...env });
    this.instances.push(instance);
    return instance;
  }

  async startWorker(name: string, env: Record<string, string> = {}): Promise<Instance> {
    const instance = await startInstance(name, { ...this.env, ...env }, "worker");
    this.instances.push(instance);
    return instance;
  }

  /** A tenant with `users` users, all members of `rooms` rooms (created through `base`). */
  async tenant(
    base: string,
    users: number,
    rooms: number,
    emails?: (n: number) => string | undefined,
  ): Promise<Tenant> {
    const created = await runCli(
      ["create-client", "--name", "Chaos", "--email", `chaos-${suffix()}@example.com`, "--json"],
      this.env,
    );
    if (created.code !== 0) throw new Error(`create-client failed: ${created.stderr}`);
    const apiKey = (JSON.parse(created.stdout) as { api_key: string }).api_key;
    const list: { id: string; token: string }[] = [];
    for (let n = 0; n < users; n++) {
      const email = emails?.(n);
      const user = await rest<{ id: string }>(
        base,
        "POST",
        "/api/v1/users",
        { apiKey },
        {
          external_id: `chaos-${n}-${suffix()}`,
          display_name: `chaos ${n}`,
          ...(email ? { email } : {}),
        },
      );
      const token = await rest<{ access_token: string }>(
        base,
        "POST",
        "/api/v1/auth/token",
        { apiKey },
        { user_id: user.id },
      );
      list.push({ id: user.id, token: token.access_token });
    }
    const roomIds: string[] = [];
    for (let r = 0; r < rooms; r++) {
      const room = await rest<{ id: string }>(
        base,
        "POST",
        "/api/v1/rooms",
        { token: list[0]!.token },
        {
          name: `chaos room ${r}`,
          member_ids: list.slice(1).map((u) => u.id),
        },
      );
      roomIds.push(room.id);
    }
    return { apiKey, users: list, rooms: roomIds };
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.instances.map((i) => i.stop("SIGKILL")));
    await this.pool.end().catch(() => undefined);
    await this.database.drop();
  }
}

/** One REST call that must succeed (setup only; the load generator handles failures itself). */
export async function rest<T>(
  base: string,
  method: string,
  path: string,
  auth: { apiKey?: string; token?: string },
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}
