// A private Redis Cluster on loopback from Debian's redis-server 7: 3 masters with a replica each
// (`redis-cli --cluster create ... --cluster-replicas 1`), every node on free ports (client and
// bus) with its own directory, for the sharded fan-out's tests and measurements. Nodes can be
// killed to force a failover; dispose() stops every node it started.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./redis-server.js";

const run = promisify(execFile);

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
  child: ChildProcess;
}

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
    const child = spawn("redis-server", args, { stdio: "ignore" });
    child.once("error", () => undefined);
    this.nodes.set(port, { port, child });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if ((await this.cli(port, "PING").catch(() => "")) === "PONG") return;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `redis-server (cluster node) on port ${port} did not start (is redis-server 7 installed? scripts/setup installs it)`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
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
    if (!node || node.child.exitCode !== null || node.child.signalCode !== null) return;
    const exited = new Promise((r) => node.child.once("exit", r));
    node.child.kill("SIGKILL");
    await exited;
  }

  private livePorts(): number[] {
    return [...this.nodes.values()]
      .filter((n) => n.child.exitCode === null && n.child.signalCode === null)
      .map((n) => n.port);
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
      await new Promise((r) => setTimeout(r, 100));
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
