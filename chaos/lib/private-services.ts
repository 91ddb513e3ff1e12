// Private instances of the data stores for the scenarios that fault them: a redis-server, a
// PostgreSQL cluster (initdb/pg_ctl as the postgres user) and a RabbitMQ node, each on random
// loopback ports with its own data directory. The shared services other tests use are never
// stopped, stalled or restarted. Redis and RabbitMQ are the integration tests' own starters.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./processes";

export { PrivateRabbit } from "../../app/test/support/rabbitmq-node.js";
export { PrivateRedis } from "../../app/test/support/redis-server.js";

const run = promisify(execFile);

const PG_BIN = "/usr/lib/postgresql/15/bin";
/** As scripts/lib/setup-common.sh builds it. */
const MAILPIT_VERSION = "v1.33.1";

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

/**
 * A Mailpit of its own (built by scripts/setup): SMTP on `smtpHost` (the Docker bridge's address
 * lets a stack's containers reach it), its HTTP API on loopback, messages in memory.
 */
export class PrivateMailpit {
  private constructor(
    private readonly child: ChildProcess,
    readonly smtp: { host: string; port: number },
    readonly api: string,
  ) {}

  static async start(smtpHost = "127.0.0.1"): Promise<PrivateMailpit> {
    const cache = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");
    const binary = join(cache, `mailpit-${MAILPIT_VERSION}`, "mailpit");
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run scripts/setup (it builds Mailpit)`);
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const child = spawn(
      binary,
      ["--smtp", `${smtpHost}:${smtpPort}`, "--listen", `127.0.0.1:${httpPort}`, "--disable-version-check"],
      { stdio: "ignore" },
    );
    const mailpit = new PrivateMailpit(
      child,
      { host: smtpHost, port: smtpPort },
      `http://127.0.0.1:${httpPort}`,
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${mailpit.api}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return mailpit;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill();
        throw new Error(`mailpit did not start (SMTP on ${smtpHost}:${smtpPort})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  dispose(): void {
    this.child.kill("SIGTERM");
  }
}
