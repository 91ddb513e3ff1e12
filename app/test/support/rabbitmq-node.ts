// A private RabbitMQ node (Debian's rabbitmq-server, started directly as root) on random loopback
// ports with its own name, data directory and Erlang cookie, for tests that stop and start the
// broker without touching the shared one. Its data survives stop/start (durable queues).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-server.js";
import { uniqueSuffix } from "./services.js";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

export class PrivateRabbit {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-rabbit-"));
  private readonly name = `chatapi-test-${uniqueSuffix()}@localhost`;
  readonly output: string[] = [];

  private constructor(
    readonly port: number,
    private readonly distPort: number,
  ) {}

  /** guest/guest works from loopback (the node's default user). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  /** With `prometheusPort`, the rabbitmq_prometheus plugin serves /metrics there (15692 in a stack). */
  static async start(options: { prometheusPort?: number } = {}): Promise<PrivateRabbit> {
    if (!existsSync(SERVER)) {
      throw new Error(`${SERVER} is missing: scripts/setup installs rabbitmq-server`);
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
    const child = spawn(SERVER, [], { env, stdio: ["ignore", "pipe", "pipe"], cwd: this.dir });
    this.child = child;
    child.stdout!.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    const deadline = Date.now() + 120_000;
    while (!(await portOpen(this.port))) {
      if (child.exitCode !== null) {
        throw new Error(`rabbitmq-server exited with ${child.exitCode}:\n${this.output.join("")}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`rabbitmq-server did not listen within 120 s:\n${this.output.join("")}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stops the broker (SIGTERM to the Erlang VM: a clean shutdown; durable data is kept). */
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
    // The VM may outlive the script for a moment; wait for the port to close.
    const deadline = Date.now() + 30_000;
    while ((await portOpen(this.port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }

  async dispose(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
