// Private instances of the data stores for the scenarios that fault them: a redis-server, a
// PostgreSQL cluster (initdb/pg_ctl as the postgres user) and a RabbitMQ node, each on random
// loopback ports with its own data directory. The shared services other tests use are never
// stopped, stalled or restarted.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, sleep, waitFor } from "./processes";

const run = promisify(execFile);

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-chaos-redis-"));
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error("redis-server is not running");
    return this.child.pid;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.startProcess();
    return redis;
  }

  async startProcess(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
      ],
      { stdio: "ignore" },
    );
    child.once("error", () => undefined);
    this.child = child;
    await waitFor(
      `redis-server on ${this.port} (scripts/setup installs it)`,
      () => this.cli("PING").then((r) => r === "PONG"),
      15_000,
    );
  }

  /** One redis-cli command against this server (e.g. CLIENT KILL TYPE pubsub). */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(this.port), ...args], {
      timeout: 5000,
    });
    return stdout.trim();
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/** A PostgreSQL 15 cluster of its own (trust auth on loopback), run as the postgres user. */
export class PrivatePostgres {
  private readonly dir: string;
  private constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), "chatapi-chaos-pg-"));
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/chatapi`;
  }

  get adminUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PrivatePostgres> {
    if (!existsSync(join(PG_BIN, "initdb")))
      throw new Error(`${PG_BIN}/initdb is missing: scripts/setup installs PostgreSQL 15`);
    const pg = new PrivatePostgres(await freePort());
    chmodSync(pg.dir, 0o700);
    if (userInfo().uid === 0) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      chownSync(pg.dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await pg.asPostgres(join(PG_BIN, "initdb"), [
      "-D",
      join(pg.dir, "data"),
      "--auth=trust",
      "-U",
      "postgres",
      "--no-sync",
    ]);
    await pg.startProcess();
    await pg.asPostgres(join(PG_BIN, "createdb"), [
      "-h",
      "127.0.0.1",
      "-p",
      String(pg.port),
      "-U",
      "postgres",
      "chatapi",
    ]);
    return pg;
  }

  private asPostgres(command: string, args: string[]) {
    const [file, argv] =
      userInfo().uid === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    return run(file as string, argv as string[], { timeout: 120_000, cwd: "/tmp" });
  }

  async startProcess(): Promise<void> {
    await this.asPostgres(join(PG_BIN, "pg_ctl"), [
      "-D",
      join(this.dir, "data"),
      "-l",
      join(this.dir, "log"),
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`,
      "-w",
      "-t",
      "60",
      "start",
    ]);
  }

  /** Fast shutdown: sessions are terminated, in-flight transactions roll back. */
  async stopProcess(): Promise<void> {
    await this.asPostgres(join(PG_BIN, "pg_ctl"), [
      "-D",
      join(this.dir, "data"),
      "-m",
      "fast",
      "-w",
      "-t",
      "60",
      "stop",
    ]);
  }

  async dispose(): Promise<void> {
    await this.stopProcess().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const RABBIT = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** A RabbitMQ node of its own (guest/guest on loopback); its durable data survives stop/start. */
export class PrivateRabbit {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-chaos-rabbit-"));
  private readonly name = `chatapi-chaos-${Math.random().toString(36).slice(2, 10)}@localhost`;
  readonly output: string[] = [];
  private constructor(
    readonly port: number,
    private readonly distPort: number,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  static async start(): Promise<PrivateRabbit> {
    if (!existsSync(RABBIT)) throw new Error(`${RABBIT} is missing: scripts/setup installs rabbitmq-server`);
    const node = new PrivateRabbit(await freePort(), await freePort());
    mkdirSync(join(node.dir, "mnesia"));
    mkdirSync(join(node.dir, "log"));
    writeFileSync(join(node.dir, "enabled_plugins"), "[].\n");
    writeFileSync(
      join(node.dir, "rabbitmq.conf"),
      `listeners.tcp.1 = 127.0.0.1:${node.port}\nloopback_users.guest = true\n`,
    );
    await node.startProcess();
    return node;
  }

  async startProcess(): Promise<void> {
    const env = {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: this.dir,
      RABBITMQ_NODENAME: this.name,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, "mnesia"),
      RABBITMQ_LOG_BASE: join(this.dir, "log"),
      RABBITMQ_CONFIG_FILE: join(this.dir, "rabbitmq"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, "enabled_plugins"),
      RABBITMQ_PID_FILE: join(this.dir, "pid"),
    };
    const child = spawn(RABBIT, [], { env, stdio: ["ignore", "pipe", "pipe"], cwd: this.dir });
    this.child = child;
    child.stdout!.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    await waitFor(
      `rabbitmq-server listening on ${this.port}`,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`rabbitmq-server exited: ${this.output.join("").slice(-2000)}`);
        return portOpen(this.port);
      },
      120_000,
    );
  }

  /** Clean broker shutdown (SIGTERM to the Erlang VM); waits for the port to close. */
  async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    const pidFile = join(this.dir, "pid");
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : NaN;
    try {
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, "SIGTERM");
      else child.kill("SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    await exited;
    clearTimeout(timer);
    const deadline = Date.now() + 30_000;
    while ((await portOpen(this.port)) && Date.now() < deadline) await sleep(100);
  }

  async dispose(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
