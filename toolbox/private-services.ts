// Private instances of the data stores and side services, each on random loopback ports with its
// own data directory, for the tests, chaos scenarios and benchmarks that stop, stall, restart or
// measure them: the shared services other work uses are never touched. redis-server, PostgreSQL 15
// and RabbitMQ come from Debian's packages, versitygw and Mailpit are built by scripts/setup.
import { randomBytes } from "node:crypto";
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
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Redis } from "ioredis";
import { run } from "./exec";
import { type Child, freePort, portOpen, sleep, startChild, waitFor } from "./processes";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
/** As scripts/lib/setup-common.sh builds it. */
const MAILPIT_VERSION = "v1.33.1";

export class PrivateRedis {
  private child: Child | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error("redis-server is not running");
    return this.child.pid;
  }

  /** `dir`: where it runs (a new temporary directory by default, removed by dispose). */
  static async start(dir = mkdtempSync(join(tmpdir(), "chatapi-redis-"))): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), dir);
    await redis.startProcess();
    return redis;
  }

  async startProcess(): Promise<void> {
    this.child = await startChild(
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
      { env: { PATH: process.env.PATH ?? "" }, killAfterMs: 15_000 },
    );
    const deadline = Date.now() + 15_000;
    for (;;) {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        if ((await probe.ping()) === "PONG") return;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(
            `redis-server on port ${this.port} did not start (is redis-server installed? scripts/setup installs it)`,
          );
        }
        await sleep(100);
      } finally {
        probe.disconnect();
      }
    }
  }

  /** One redis-cli command against this server (e.g. CLIENT KILL TYPE pubsub). */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(this.port), ...args], {
      timeout: 5000,
    });
    return stdout.trim();
  }

  /** Sends a signal to the server (SIGSTOP stalls it with its connections open; SIGCONT resumes). */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** Stops the server (SIGTERM: a clean shutdown). */
  async stop(): Promise<void> {
    await this.child?.stop();
  }

  /** Kills the server abruptly (connections drop, nothing saved). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.alive()) return;
    child.signal("SIGCONT");
    await child.stop("SIGKILL");
  }

  /** Kills the server and removes its directory. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ClusterNodeState {
  id: string;
  port: number;
  role: "master" | "replica";
  /** The master's id, for a replica. */
  masterId?: string;
  failed: boolean;
  /** Slot ranges a master owns, e.g. [[0, 5460]]. */
  slots: Array<[number, number]>;
}

interface NodeProcess {
  port: number;
  child: Child;
}

/**
 * A Redis Cluster of its own on loopback from Debian's redis-server 7: 3 masters with a replica
 * each (`redis-cli --cluster create ... --cluster-replicas 1`), every node on free ports (client
 * and cluster bus) in its own directory, for the sharded fan-out's tests and measurements. Nodes
 * can be killed to force a failover; dispose() stops every node it started.
 */
export class PrivateRedisCluster {
  private readonly nodes = new Map<number, NodeProcess>();

  private constructor(
    private readonly dir: string,
    readonly password: string | undefined,
  ) {}

  /** Client ports of every node started (masters and replicas). */
  get ports(): number[] {
    return [...this.nodes.keys()];
  }

  /** `127.0.0.1:<port>,...` as FANOUT_REDIS_CLUSTER_NODES takes it. */
  get nodeList(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(",");
  }

  static async start(options: { masters?: number; password?: string; nodeTimeoutMs?: number } = {}) {
    const masters = options.masters ?? 3;
    const cluster = new PrivateRedisCluster(
      mkdtempSync(join(tmpdir(), "chatapi-redis-cluster-")),
      options.password,
    );
    try {
      for (let i = 0; i < masters * 2; i++) await cluster.startNode(options.nodeTimeoutMs ?? 2000);
      const addresses = cluster.ports.map((port) => `127.0.0.1:${port}`);
      await run(
        "redis-cli",
        [...cluster.auth(), "--cluster", "create", ...addresses, "--cluster-replicas", "1", "--cluster-yes"],
        { timeout: 60_000 },
      );
      await cluster.waitHealthy(60_000, true);
      return cluster;
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
  }

  private auth(): string[] {
    return this.password ? ["-a", this.password, "--no-auth-warning"] : [];
  }

  private async startNode(nodeTimeoutMs: number): Promise<void> {
    const [port, busPort] = [await freePort(), await freePort()];
    const dir = join(this.dir, String(port));
    mkdirSync(dir);
    const args = [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--cluster-enabled", "yes",
      "--cluster-port", String(busPort),
      "--cluster-config-file", join(dir, "nodes.conf"),
      "--cluster-node-timeout", String(nodeTimeoutMs),
      // The other shards keep serving while one fails over (as the README advises).
      "--cluster-require-full-coverage", "no",
      "--save", "",
      "--appendonly", "no",
      "--dir", dir,
      ...(this.password ? ["--requirepass", this.password, "--masterauth", this.password] : []),
    ]; // prettier-ignore
    const child = await startChild("redis-server", args, {
      env: { PATH: process.env.PATH ?? "" },
      killAfterMs: 15_000,
    });
    this.nodes.set(port, { port, child });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if ((await this.cli(port, "PING").catch(() => "")) === "PONG") return;
      if (!child.alive() || Date.now() > deadline) {
        throw new Error(
          `redis-server (cluster node) on port ${port} did not start (is redis-server 7 installed? scripts/setup installs it)`,
        );
      }
      await sleep(100);
    }
  }

  /** One redis-cli command against one node. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run(
      "redis-cli",
      ["-h", "127.0.0.1", "-p", String(port), ...this.auth(), ...args],
      {
        timeout: 5000,
      },
    );
    return stdout.trim();
  }

  /** Every node as one live node sees it (CLUSTER NODES). */
  async state(): Promise<ClusterNodeState[]> {
    for (const port of this.livePorts()) {
      const text = await this.cli(port, "CLUSTER", "NODES").catch(() => "");
      if (text === "") continue;
      return text.split("\n").map((line) => {
        const [id, address, flags, master, , , , , ...slots] = line.trim().split(" ");
        const flagList = flags!.split(",");
        return {
          id: id!,
          port: Number(/:(\d+)@/.exec(address!)![1]),
          role: flagList.includes("master") ? "master" : "replica",
          masterId: master === "-" ? undefined : master,
          failed: flagList.includes("fail") || flagList.includes("fail?"),
          slots: slots
            .filter((s) => /^\d+(-\d+)?$/.test(s))
            .map((s) => {
              const [from, to] = s.split("-").map(Number);
              return [from!, to ?? from!] as [number, number];
            }),
        };
      });
    }
    throw new Error("no cluster node answers");
  }

  /** Live masters that own slots, by port. */
  async masters(): Promise<ClusterNodeState[]> {
    return (await this.state()).filter((n) => n.role === "master" && !n.failed && n.slots.length > 0);
  }

  /** The port of the master that owns a slot. */
  async ownerOf(slot: number): Promise<number> {
    const owner = (await this.masters()).find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!owner) throw new Error(`no live master owns slot ${slot}`);
    return owner.port;
  }

  /**
   * INFO (a section of it) or CLUSTER INFO of a node, numbers by field; a commandstats line gives
   * its calls (`cmdstat_spublish:calls=3,...` is 3).
   */
  async info(port: number, ...command: string[]): Promise<Record<string, number>> {
    const text = await this.cli(port, ...(command.length > 0 ? command : ["INFO"]));
    const fields: Record<string, number> = {};
    for (const line of text.split("\n")) {
      const [key, value] = line.trim().split(":");
      const number = /^(?:calls=)?(-?\d+(?:\.\d+)?)(?:,|$)/.exec(value ?? "")?.[1];
      if (key && number !== undefined) fields[key] = Number(number);
    }
    return fields;
  }

  /** Kills a node abruptly (SIGKILL: connections drop, nothing saved). */
  async kill(port: number): Promise<void> {
    const node = this.nodes.get(port);
    if (!node?.child.alive()) return;
    await node.child.stop("SIGKILL");
  }

  private livePorts(): number[] {
    return [...this.nodes.values()].filter((n) => n.child.alive()).map((n) => n.port);
  }

  /**
   * Until every live node says cluster_state:ok and all 16384 slots are served by live masters
   * (and, with `replicated`, each master has a replica whose replication link is up).
   */
  async waitHealthy(timeoutMs: number, replicated = false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      try {
        const states = await Promise.all(this.livePorts().map((p) => this.cli(p, "CLUSTER", "INFO")));
        const live = new Set(this.livePorts());
        const masters = (await this.masters()).filter((m) => live.has(m.port));
        const covered = masters.flatMap((m) => m.slots).reduce((n, [a, b]) => n + b - a + 1, 0);
        last = `${states.filter((s) => s.includes("cluster_state:ok")).length}/${states.length} ok, ${covered} slots`;
        const linked = replicated ? await this.replicasLinked(masters) : true;
        if (states.every((s) => s.includes("cluster_state:ok")) && covered === 16384 && linked) return;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`the Redis Cluster is not healthy after ${timeoutMs} ms (${last})`);
      await sleep(100);
    }
  }

  private async replicasLinked(masters: ClusterNodeState[]): Promise<boolean> {
    const nodes = await this.state();
    for (const master of masters) {
      const replica = nodes.find((n) => n.masterId === master.id && !n.failed);
      if (!replica) return false;
      if (!(await this.cli(replica.port, "INFO", "replication")).includes("master_link_status:up"))
        return false;
    }
    return true;
  }

  /** Kills every node and removes their directories. */
  async dispose(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class PrivateRabbit {
  private child: Child | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-rabbit-"));
  private readonly name = `chatapi-test-${randomBytes(5).toString("hex")}@localhost`;

  private constructor(
    readonly port: number,
    private readonly distPort: number,
  ) {}

  /** What the node printed (its latest start). */
  get output(): string[] {
    return this.child?.output ?? [];
  }

  /** guest/guest works from loopback (the node's default user). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  /** With `prometheusPort`, the rabbitmq_prometheus plugin serves /metrics there (15692 in a stack). */
  static async start(options: { prometheusPort?: number } = {}): Promise<PrivateRabbit> {
    if (!existsSync(RABBITMQ_SERVER)) {
      throw new Error(`${RABBITMQ_SERVER} is missing: scripts/setup installs rabbitmq-server`);
    }
    const node = new PrivateRabbit(await freePort(), await freePort());
    mkdirSync(join(node.dir, "mnesia"));
    mkdirSync(join(node.dir, "log"));
    const prometheus = options.prometheusPort;
    writeFileSync(join(node.dir, "enabled_plugins"), prometheus ? "[rabbitmq_prometheus].\n" : "[].\n");
    writeFileSync(
      join(node.dir, "rabbitmq.conf"),
      `listeners.tcp.1 = 127.0.0.1:${node.port}\nloopback_users.guest = true\n` +
        (prometheus ? `prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = ${prometheus}\n` : ""),
    );
    await node.startProcess();
    return node;
  }

  /** Starts the node (again) and waits until it accepts AMQP connections (boot takes ~20 s here). */
  async startProcess(): Promise<void> {
    const env = {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: this.dir, // the Erlang cookie lives here
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
    const child = await startChild(RABBITMQ_SERVER, [], { env, cwd: this.dir, killAfterMs: 60_000 });
    this.child = child;
    await waitFor(
      "rabbitmq-server listening",
      async () => {
        if (!child.alive()) throw new Error(`exited with ${await child.exited}`);
        return portOpen(this.port);
      },
      120_000,
      250,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}:\n${child.output.join("\n")}`);
    });
  }

  /** Stops the broker (SIGTERM to the Erlang VM: a clean shutdown; durable data is kept). */
  async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child?.alive()) return;
    const pidFile = join(this.dir, "pid");
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : NaN;
    const timer = setTimeout(() => child.signal("SIGKILL"), 60_000);
    try {
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, "SIGTERM");
      else child.signal("SIGTERM");
    } catch {
      child.signal("SIGTERM");
    }
    await child.exited;
    clearTimeout(timer);
    // The VM may outlive the script for a moment; wait for the port to close.
    await waitFor("rabbitmq-server closing its port", async () => !(await portOpen(this.port))).catch(
      () => undefined,
    );
  }

  async dispose(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class PrivateS3 {
  readonly accessKeyId = `test${randomBytes(6).toString("hex")}`;
  readonly secretAccessKey = randomBytes(20).toString("hex");
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-s3-"));
  private child: Child | undefined;

  private constructor(
    readonly port: number,
    readonly host: string,
  ) {}

  get output(): string[] {
    return this.child?.output ?? [];
  }

  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  static async start(host = "127.0.0.1"): Promise<PrivateS3> {
    const binary = process.env.CHATAPI_TEST_VERSITYGW;
    if (!binary)
      throw new Error(
        "CHATAPI_TEST_VERSITYGW is not set: the test services were never set up; run scripts/setup",
      );
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run scripts/setup (it builds versitygw)`);
    const server = new PrivateS3(await freePort(), host);
    const child = await startChild(
      binary,
      ["--port", `${host}:${server.port}`, "--quiet", "posix", server.dir],
      {
        env: { ROOT_ACCESS_KEY: server.accessKeyId, ROOT_SECRET_KEY: server.secretAccessKey },
      },
    );
    server.child = child;
    await waitFor(
      "versitygw listening",
      async () => {
        if (!child.alive()) throw new Error(`exited with ${await child.exited}`);
        return portOpen(server.port, host);
      },
      20_000,
    ).catch(async (error: unknown) => {
      await child.stop("SIGKILL");
      throw new Error(`versitygw did not start (${(error as Error).message}):\n${child.output.join("\n")}`);
    });
    return server;
  }

  client(): S3Client {
    return new S3Client({
      region: "us-east-1",
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async createBucket(name: string): Promise<void> {
    const client = this.client();
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  }

  /** Environment for `chatapi backup/restore` using this server. */
  env(bucket: string, prefix: string): Record<string, string> {
    return {
      BACKUP_S3_BUCKET: bucket,
      BACKUP_S3_PREFIX: prefix,
      BACKUP_S3_ENDPOINT: this.endpoint,
      BACKUP_S3_REGION: "us-east-1",
      BACKUP_S3_FORCE_PATH_STYLE: "true",
      BACKUP_S3_ACCESS_KEY_ID: this.accessKeyId,
      BACKUP_S3_SECRET_ACCESS_KEY: this.secretAccessKey,
    };
  }

  async stop(): Promise<void> {
    await this.child?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PostgresOptions {
  /**
   * The shared service's durability (fsync and synchronous_commit on), for measurements; by
   * default fsync is off (faster; a crash of the machine may lose what a test wrote).
   */
  durable?: boolean;
  /** Server settings (-c name=value) beside the defaults. */
  settings?: Record<string, string>;
}

/** A PostgreSQL 15 cluster of its own (trust auth on loopback), run as the postgres user under root. */
export class PrivatePostgres {
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-pg-"));
  private constructor(
    readonly port: number,
    private readonly options: PostgresOptions,
  ) {}

  /** The `chatapi` database. */
  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/chatapi`;
  }

  get adminUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** The postmaster's process id (from postmaster.pid), while it runs. */
  get pid(): number {
    const pidFile = join(this.dir, "data", "postmaster.pid");
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : NaN;
    if (!Number.isInteger(pid)) throw new Error("PostgreSQL is not running");
    return pid;
  }

  static async start(options: PostgresOptions = {}): Promise<PrivatePostgres> {
    if (!existsSync(join(PG_BIN, "initdb")))
      throw new Error(`${PG_BIN}/initdb is missing: scripts/setup installs PostgreSQL 15`);
    const pg = new PrivatePostgres(await freePort(), options);
    chmodSync(pg.dir, 0o700);
    if (userInfo().uid === 0) {
      // PostgreSQL refuses to run as root: as root, the data directory belongs to `postgres`.
      const uid = await run("id", ["-u", "postgres"]);
      const gid = await run("id", ["-g", "postgres"]);
      chownSync(pg.dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
    }
    const initdb = ["-D", join(pg.dir, "data"), "--auth=trust", "-U", "postgres", "--no-sync"];
    await pg.asPostgres(join(PG_BIN, "initdb"), initdb);
    await pg.startProcess();
    const createdb = ["-h", "127.0.0.1", "-p", String(pg.port), "-U", "postgres", "chatapi"];
    await pg.asPostgres(join(PG_BIN, "createdb"), createdb);
    return pg;
  }

  private asPostgres(command: string, args: string[]) {
    const [file, argv] =
      userInfo().uid === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    return run(file as string, argv as string[], { timeout: 120_000, cwd: "/tmp" });
  }

  async startProcess(): Promise<void> {
    const durability = this.options.durable
      ? { fsync: "on", synchronous_commit: "on" }
      : { fsync: "off", max_connections: "60" };
    const settings = Object.entries({
      listen_addresses: "127.0.0.1",
      ...durability,
      ...this.options.settings,
    })
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(" ");
    const data = join(this.dir, "data");
    const options = `-p ${this.port} -k ${this.dir} ${settings}`;
    const log = join(this.dir, "log");
    await this.asPostgres(join(PG_BIN, "pg_ctl"), [
      "-D",
      data,
      "-l",
      log,
      "-o",
      options,
      "-w",
      "-t",
      "60",
      "start",
    ]);
  }

  /** Fast shutdown: sessions are terminated, in-flight transactions roll back. */
  async stopProcess(): Promise<void> {
    const data = join(this.dir, "data");
    await this.asPostgres(join(PG_BIN, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]);
  }

  async dispose(): Promise<void> {
    await this.stopProcess().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Mailpit of its own (built by scripts/setup): SMTP on `smtpHost` (the Docker bridge's address
 * lets a stack's containers reach it), its HTTP API on loopback, messages in memory.
 */
export class PrivateMailpit {
  private constructor(
    private readonly child: Child,
    readonly smtp: { host: string; port: number },
    readonly api: string,
  ) {}

  static async start(smtpHost = "127.0.0.1"): Promise<PrivateMailpit> {
    const cache = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");
    const binary = join(cache, `mailpit-${MAILPIT_VERSION}`, "mailpit");
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run scripts/setup (it builds Mailpit)`);
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const child = await startChild(binary, [
      "--smtp",
      `${smtpHost}:${smtpPort}`,
      "--listen",
      `127.0.0.1:${httpPort}`,
      "--disable-version-check",
    ]);
    const mailpit = new PrivateMailpit(
      child,
      { host: smtpHost, port: smtpPort },
      `http://127.0.0.1:${httpPort}`,
    );
    await waitFor("mailpit answering /readyz", async () => {
      if (!child.alive()) throw new Error(`exited with ${await child.exited}`);
      return (await fetch(`${mailpit.api}/readyz`).catch(() => undefined))?.ok ?? false;
    }).catch(async (error: unknown) => {
      await child.stop("SIGKILL");
      throw new Error(`mailpit did not start (SMTP on ${smtpHost}:${smtpPort}): ${(error as Error).message}`);
    });
    return mailpit;
  }

  dispose(): void {
    void this.child.stop();
  }
}
