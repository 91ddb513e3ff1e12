// A local compose stack of its own (name, ports) for measuring deploys, driven only the way an
// operator drives it: `scripts/local up | deploy | rollback | releases | down`, HTTPS and WSS
// through nginx with the stack's CA, and `docker exec psql` to read what PostgreSQL holds.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Agent, fetch as undiciFetch } from "undici";
import { type Credentials, StackClient } from "../../toolbox/stack-client";
import { lockHolder } from "../../scripts/lib/file-lock";
import { type ReleaseState, readReleases } from "../../scripts/lib/releases";
import { run } from "../../toolbox/exec";
import { stackDir } from "../../scripts/lib/stack-dir";
import { uuidList } from "../lib/digests";
import { withKeepAliveRetry } from "./keep-alive-retry";
import type { StoredMessages } from "../lib/load";
import type { Tenant } from "../lib/stack";

const ROOT = join(__dirname, "..", "..");
/** Client addresses the REST load spreads over (198.18.0.0/15: set aside for benchmarks). */
const REST_CLIENTS = 16;

export interface MeasuredStackOptions {
  name: string;
  /** The app image of the first release. */
  appImage: string;
  ports: { http: number; https: number };
  /** Where the workers send e-mail (an SMTP sink the containers reach). */
  smtp?: { host: string; port: number };
  readyTimeoutSeconds: number;
}

export interface CommandRun {
  exitCode: number;
  output: string;
  seconds: number;
}

export class MeasuredStack {
  readonly dir: string;
  /** REST and WebSocket clients of the stack through nginx (TLS verified against its CA). */
  readonly chat: StackClient;
  readonly base: string;
  readonly wsBase: string;
  readonly ca: string;
  readonly adminApiKey: string;
  /** fetch trusting the stack's CA, keep-alive and retrying a dropped keep-alive request once, as browsers do. */
  readonly fetch: typeof fetch;
  /** When each such retry happened (ms epoch): reported, never hidden. */
  readonly keepAliveRetries: number[] = [];

  private constructor(readonly options: MeasuredStackOptions) {
    this.dir = stackDir(options.name);
    this.base = `https://localhost:${options.ports.https}`;
    this.wsBase = `wss://localhost:${options.ports.https}`;
    this.ca = readFileSync(join(this.dir, "ca.pem"), "utf8");
    this.adminApiKey = readFileSync(join(this.dir, "secrets", "admin_api_key"), "utf8").trim();
    this.chat = new StackClient({ url: this.base, ca: this.ca });
    const dispatcher = new Agent({ connect: { ca: this.ca } });
    // The REST load is many users, not one: each request names one of REST_CLIENTS addresses
    // (nginx trusts X-Forwarded-For on this stack), so nginx's per-address limit (100 requests/s)
    // applies per user as in production, not to the whole load at once.
    let request = 0;
    const plainFetch = ((url: string, init?: RequestInit) => {
      const headers = Object.fromEntries(new Headers(init?.headers));
      headers["x-forwarded-for"] ??= `198.18.0.${1 + (request++ % REST_CLIENTS)}`;
      return undiciFetch(url, { ...(init as object), headers, dispatcher });
    }) as unknown as typeof fetch;
    this.fetch = withKeepAliveRetry(plainFetch, () => this.keepAliveRetries.push(Date.now()));
  }

  /** `scripts/local <args> --stack <name>`, its output and how long it took. */
  static async local(name: string, args: string[], timeoutMs = 900_000): Promise<CommandRun> {
    const started = Date.now();
    const result = await run("bash", [join(ROOT, "scripts", "local"), ...args, "--stack", name], {
      reject: false,
      timeout: timeoutMs,
    });
    return { exitCode: result.exitCode, output: result.all, seconds: (Date.now() - started) / 1000 };
  }

  local(args: string[], timeoutMs?: number): Promise<CommandRun> {
    return MeasuredStack.local(this.options.name, args, timeoutMs);
  }

  /** `scripts/local up` of this stack as the measurement configures it, with `extra` overrides. */
  static upArgs(options: MeasuredStackOptions, extra: string[] = []): string[] {
    const set = [
      `nginx.httpPort=${options.ports.http}`,
      `nginx.httpsPort=${options.ports.https}`,
      `images.app=${options.appImage}`,
      `deploy.readyTimeoutSeconds=${options.readyTimeoutSeconds}`,
      // The load's subscribers tell nginx their address (X-Forwarded-For), as clients behind a
      // load balancer do, so they spread over every API instance; loopback only, so trusting
      // every sender is safe here.
      'nginx.trustedProxies=["0.0.0.0/0"]',
      ...(options.smtp ? [`smtp.host=${options.smtp.host}`, `smtp.port=${options.smtp.port}`] : []),
      ...extra,
    ];
    return [
      "up",
      "--skip-setup",
      "--offline",
      "--stack-file",
      "local",
      "--engine",
      "compose",
      ...set.flatMap((s) => ["--set", s]),
    ];
  }

  upArgs(extra: string[] = []): string[] {
    return MeasuredStack.upArgs(this.options, extra);
  }

  /** Brings the stack up from nothing with its first release (the whole `up`, smoke check included). */
  static async up(options: MeasuredStackOptions): Promise<{ stack: MeasuredStack; up: CommandRun }> {
    const up = await MeasuredStack.local(options.name, MeasuredStack.upArgs(options));
    if (up.exitCode !== 0) throw new Error(`scripts/local up failed:\n${up.output.slice(-6000)}`);
    return { stack: new MeasuredStack(options), up };
  }

  /** Who holds (or last held) the stack's deploy lock. */
  lockHolder(): string {
    return lockHolder(join(this.dir, "deploy.lock"));
  }

  releases(): ReleaseState {
    return readReleases(this.dir);
  }

  /** The API instances (host names) of the live release. */
  liveApiInstances(): string[] {
    const state = this.releases();
    const live = state.releases.find((r) => r.id === state.live);
    if (!live) throw new Error(`stack ${this.options.name} has no live release`);
    return Object.values(live.compose.services)
      .filter((s) => s.labels["chatapi.role"] === "api")
      .map((s) => s.hostname!); // API containers are on the stack's networks, never the host's
  }

  /** The rows of a query, as JSON objects, through psql in the PostgreSQL container. */
  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const password = readFileSync(join(this.dir, "secrets", "postgres_password"), "utf8");
    const result = await run("docker", [
      "exec",
      "-e",
      `PGPASSWORD=${password}`,
      `chatapi-${this.options.name}-postgres`,
      "psql",
      "-h",
      "127.0.0.1",
      "-U",
      "chatapi",
      "-d",
      "chatapi",
      "-v",
      "ON_ERROR_STOP=1",
      "-At",
      "-c",
      `SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`,
    ]);
    return JSON.parse(result.stdout) as T[];
  }

  readonly storedMessages: StoredMessages = async (rooms) => {
    const rows = await this.query<{ room_id: string; seq: number; body: string }>(
      `SELECT room_id, seq, body FROM messages WHERE room_id IN (${uuidList(rooms)})`,
    );
    return rows.map((r) => ({ ...r, seq: String(r.seq) }));
  };

  /** A client of its own, `users` users (optionally with e-mail addresses), all in `rooms` rooms. */
  async tenant(users: number, rooms: number, email?: (n: number) => string | undefined): Promise<Tenant> {
    const post = <T>(path: string, status: number, auth: Credentials, body: unknown) =>
      this.chat.api<T>("POST", path, auth, body, [status]);
    const tag = () => randomUUID().slice(0, 8);
    const client = await post<{ api_key: string }>(
      "/clients",
      201,
      { apiKey: this.adminApiKey },
      {
        name: "deploy measurement",
        email: `deploys-${tag()}@example.com`,
      },
    );
    const key = { apiKey: client.api_key };
    const list: Tenant["users"] = [];
    for (let n = 0; n < users; n++) {
      const address = email?.(n);
      const user = await post<{ id: string }>("/users", 201, key, {
        external_id: `deploy-${n}-${tag()}`,
        display_name: `user ${n}`,
        ...(address ? { email: address } : {}),
      });
      const token = await post<{ access_token: string }>("/auth/token", 200, key, { user_id: user.id });
      list.push({ id: user.id, token: token.access_token });
    }
    const roomIds: string[] = [];
    for (let r = 0; r < rooms; r++) {
      const room = await post<{ id: string }>(
        "/rooms",
        201,
        { token: list[0]!.token },
        {
          name: `deploy room ${r}`,
          member_ids: list.slice(1).map((u) => u.id),
        },
      );
      roomIds.push(room.id);
    }
    return { apiKey: client.api_key, users: list, rooms: roomIds };
  }

  /**
   * Client addresses (sent as X-Forwarded-For) that nginx's sticky hash puts on each API
   * instance: `perInstance` for every one, found by connecting with candidates.
   */
  async addressesOnEveryInstance(token: string, perInstance: number): Promise<string[]> {
    const instances = this.liveApiInstances();
    const found = new Map<string, string[]>(instances.map((i) => [i, []]));
    for (let n = 1; n < 2000 && [...found.values()].some((a) => a.length < perInstance); n++) {
      const address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      const instance = await this.instanceFor(token, address);
      const list = found.get(instance);
      if (list && list.length < perInstance) list.push(address);
    }
    const short = [...found].filter(([, a]) => a.length < perInstance);
    if (short.length > 0) throw new Error(`no client address lands on ${short.map(([i]) => i).join(", ")}`);
    return [...found.values()].flat();
  }

  private async instanceFor(token: string, address: string): Promise<string> {
    const socket = await this.chat.openSocket(token, address, 10_000);
    socket.close();
    return socket.instance;
  }

  async down(): Promise<CommandRun> {
    this.chat.close();
    return this.local(["down", "--volumes"]);
  }
}
