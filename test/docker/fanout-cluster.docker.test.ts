// The fan-out's Redis Cluster in the stack, for real, as an operator meets it:
// `scripts/local up --set fanoutCluster.mode=container` under a stack name and ports of its own.
//   - the stack comes up with 6 Redis nodes, the job forms a 3-master cluster before the API
//     starts, and the smoke check (WebSocket clients on both API instances) passes through it;
//   - both API instances hold their sharded subscriptions on the cluster's masters, and the
//     password is in no container's environment or command line;
//   - every node stopped and started again in another order, so Docker hands out other addresses,
//     re-forms the cluster by itself (the nodes meet again by the shared name);
//   - a master killed: its replica takes over and the smoke check passes; the master, back, rejoins;
//   - a second `up` keeps the cluster (the job only checks it).
// Run it under the machine's Docker lock: flock /tmp/chatapi-docker.lock npx vitest run <this file>
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackDir } from "../../scripts/lib/stack-dir";
import { stackContainers } from "../../scripts/lib/stack-health";
import { docker, run } from "../../toolbox/exec";
import { freePort, waitFor } from "../../toolbox/processes";
import { requireImages } from "../support/images";
import { instanceContainer, runLocal, type Ports } from "../support/local-stack";
import { repoRoot } from "../support/paths";

const stack = `fc${randomUUID().slice(0, 6)}`;
const prefix = `chatapi-${stack}`;
const dir = stackDir(stack);
const NODES = [1, 2, 3, 4, 5, 6].map((n) => `${prefix}-redis-cluster-${n}`);
const CLUSTER = ["--set", "fanoutCluster.mode=container"];
let ports: Ports;
let firstUp: { exitCode: number; all: string };

/** redis-cli inside a node, authenticated from its password file (never on a command line). */
async function cli(container: string, ...args: string[]): Promise<string> {
  return docker(
    "exec",
    container,
    "sh",
    "-c",
    `REDISCLI_AUTH="$(cat /run/secrets/redis_cluster_password)" redis-cli ${args.join(" ")}`,
  );
}

const info = async (node: string) =>
  Object.fromEntries(
    (await cli(node, "cluster", "info"))
      .split("\n")
      .map((line) => line.trim().split(":") as [string, string])
      .filter(([, value]) => value !== undefined),
  );

/** CLUSTER NODES of one node: each node's address, flags and slot ranges. */
async function clusterNodes(node: string) {
  return (await cli(node, "cluster", "nodes")).split("\n").map((line) => {
    const [id, address, flags, master, , , , linkState, ...slots] = line.trim().split(" ");
    return { id, ip: address!.split(":")[0], flags: flags!.split(","), master, linkState, slots };
  });
}

const ipOf = async (container: string) =>
  docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container);

/** Every node says the cluster is ok, knows all 6 nodes, none failed, 3 masters serve every slot. */
async function healthy(): Promise<boolean> {
  for (const node of NODES) {
    const i = await info(node);
    if (i.cluster_state !== "ok" || i.cluster_known_nodes !== "6" || i.cluster_slots_ok !== "16384")
      return false;
    const nodes = await clusterNodes(node);
    if (
      nodes.some((n) => n.flags.some((f) => /fail|noaddr|handshake/.test(f)) || n.linkState !== "connected")
    )
      return false;
  }
  return true;
}

/** Both API instances answer /health/ready (its fan-out check goes through every shard). */
async function apisReady(): Promise<boolean> {
  for (const index of [1, 2]) {
    const api = await instanceContainer(stack, "api", index);
    const probe = await run(
      "docker",
      [
        "exec",
        api,
        "node",
        "-e",
        "fetch('http://127.0.0.1:8000/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
      ],
      { reject: false },
    );
    if (probe.exitCode !== 0) return false;
  }
  return true;
}

/** Waits (bounded) for the API instances to be ready again; prints how long it took. */
async function apisRecover(after: string, since: number): Promise<void> {
  await waitFor(`both API instances ready again after ${after}`, apisReady, 120_000, 1000);
  console.log(`API instances ready ${((Date.now() - since) / 1000).toFixed(1)} s after ${after}`);
}

const smoke = () =>
  run(
    join(repoRoot, "scripts", "smoke"),
    [
      "--url",
      `https://localhost:${ports.https}/`,
      "--ca",
      join(dir, "ca.pem"),
      "--admin-key-file",
      join(dir, "secrets", "admin_api_key"),
    ],
    { reject: false },
  );

beforeAll(async () => {
  await requireImages(["chatapi-local/redis:7", "chatapi-local/chatapi:1.0.0"]);
  ports = { http: await freePort(), https: await freePort() };
  firstUp = await runLocal(stack, ports, "up", CLUSTER);
  if (firstUp.exitCode !== 0) throw new Error(`scripts/local up failed:\n${firstUp.all.slice(-6000)}`);
}, 900_000);

afterAll(async () => {
  if (!ports) return;
  const down = await runLocal(stack, ports, "down", ["--volumes"]);
  if (down.exitCode !== 0) console.error(down.all);
}, 300_000);

describe("the fan-out's Redis Cluster in a Docker stack (fanoutCluster.mode container)", () => {
  it("comes up with 6 nodes, formed into a cluster by the job before the API, and passes the smoke check", async () => {
    expect(firstUp.all).toContain("smoke check passed (9 checks)");
    const containers = await stackContainers(stack);
    const nodes = containers.filter((c) => c.role === "redis-cluster");
    expect(nodes.map((c) => c.name).sort()).toEqual([...NODES].sort());
    for (const c of nodes) expect(c, c.name).toMatchObject({ status: "running", health: "healthy" });
    const form = containers.find((c) => c.role === "redis-cluster-init");
    expect(form).toMatchObject({ status: "exited", exitCode: 0 });
    expect(await docker("logs", form!.name)).toContain("Redis Cluster ok: 6 nodes, every slot served");
    const i = await info(NODES[0]!);
    const seen = await cli(NODES[0]!, "cluster", "nodes");
    expect(i, seen).toMatchObject({ cluster_state: "ok", cluster_size: "3", cluster_known_nodes: "6" });
    const roles = (await clusterNodes(NODES[0]!)).map((n) =>
      n.flags.includes("master") ? "master" : "replica",
    );
    expect(roles.filter((r) => r === "master")).toHaveLength(3);
    expect(roles.filter((r) => r === "replica")).toHaveLength(3);
  });

  it("carries the API's fan-out: both instances subscribe on the cluster's masters, the password is nowhere in plain sight", async () => {
    const api = [await instanceContainer(stack, "api", 1), await instanceContainer(stack, "api", 2)];
    for (const container of api) {
      const env = await docker("inspect", "-f", "{{json .Config.Env}}", container);
      expect(env).toContain("FANOUT_REDIS_CLUSTER_NODES=redis-cluster:6379");
      expect(env).toContain("FANOUT_REDIS_CLUSTER_PASSWORD_FILE=/run/secrets/redis_cluster_password");
    }
    // Sharded subscriber connections are named after the instance (ShardedRedisFanout).
    const names = new Set<string>();
    for (const node of NODES)
      for (const line of (await cli(node, "client", "list")).split("\n"))
        if (/ sub=0 .*ssub=[1-9]|ssub=[1-9]/.test(line)) names.add(/ name=(\S*)/.exec(line)?.[1] ?? "");
    const instances = [...names].map((n) => n.replace(/^.*chatapi-fanout:/, ""));
    expect(
      instances.some((n) => /api-[0-9a-f]{8}-1$|api-1$/.test(n)),
      [...names].join(),
    ).toBe(true);
    expect(
      instances.some((n) => /api-[0-9a-f]{8}-2$|api-2$/.test(n)),
      [...names].join(),
    ).toBe(true);
    const password = await docker("exec", NODES[0]!, "cat", "/run/secrets/redis_cluster_password");
    expect(password).toMatch(/^[A-Za-z0-9._~-]{32}$/);
    for (const container of [...NODES, ...api, `${prefix}-redis-cluster-init`]) {
      const config = await docker(
        "inspect",
        "-f",
        "{{json .Config.Env}} {{json .Config.Cmd}} {{json .Args}}",
        container,
      );
      expect(config, container).not.toContain(password);
    }
  });

  it("re-forms by itself after every node restarted on other addresses", async () => {
    const before = await Promise.all(NODES.map(ipOf));
    await docker("stop", "-t", "5", ...NODES);
    // Hold two of the freed addresses, then start the nodes in the reverse order: Docker hands
    // them addresses other than their nodes.conf says.
    const network = `${prefix}-fanout`;
    const holders = [];
    for (const n of [1, 2])
      holders.push(
        await docker(
          "run",
          "-d",
          "--rm",
          "--network",
          network,
          "--name",
          `${prefix}-holder-${n}`,
          "chatapi-local/redis:7",
          "sleep",
          "300",
        ),
      );
    try {
      for (const node of [...NODES].reverse()) await docker("start", node);
      const after = await Promise.all(NODES.map(ipOf));
      const moved = NODES.filter((_, i) => before[i] !== after[i]);
      expect(moved.length, `addresses before ${before.join()} after ${after.join()}`).toBeGreaterThan(0);
      const started = Date.now();
      await waitFor("the cluster re-formed on the new addresses", healthy, 120_000, 1000);
      console.log(
        `re-formed in ${((Date.now() - started) / 1000).toFixed(1)} s after ${moved.length} of 6 nodes moved`,
      );
      await apisRecover("every node moved", started);
    } finally {
      await docker("rm", "-f", ...holders.map((_, i) => `${prefix}-holder-${i + 1}`)).catch(() => "");
    }
    const result = await smoke();
    expect(result.exitCode, result.all).toBe(0);
  }, 300_000);

  it("a master killed: its replica takes over, the smoke check passes, and the old master rejoins as a replica", async () => {
    const nodes = await clusterNodes(NODES[0]!);
    const masterIp = nodes.find((n) => n.flags.includes("master"))!.ip;
    const ips = await Promise.all(NODES.map(ipOf));
    const master = NODES[ips.indexOf(masterIp!)]!;
    const masterId = nodes.find((n) => n.ip === masterIp)!.id;
    const survivor = NODES.find((n) => n !== master)!;
    await docker("kill", master);
    const killed = Date.now();
    // On failure, what the survivor saw says why.
    await waitFor(
      "the killed master marked failed, its replica promoted, every slot served",
      async () => {
        const i = await info(survivor);
        const view = await clusterNodes(survivor);
        return (
          i.cluster_state === "ok" &&
          i.cluster_slots_ok === "16384" &&
          view.find((n) => n.id === masterId)!.flags.includes("fail") &&
          view.filter((n) => n.flags.includes("master") && !n.flags.some((f) => f.includes("fail")))
            .length === 3
        );
      },
      60_000,
      500,
    ).catch(async (error: Error) => {
      const view = await cli(survivor, "cluster", "nodes");
      throw new Error(`${error.message}; killed ${master} (${masterId}); ${survivor} sees:\n${view}`);
    });
    console.log(
      `replica promoted ${((Date.now() - killed) / 1000).toFixed(1)} s after the master was killed`,
    );
    await apisRecover("the master was killed", killed);
    const result = await smoke();
    expect(result.exitCode, result.all).toBe(0);
    await docker("start", master);
    await waitFor("the old master back in the cluster", healthy, 120_000, 1000);
    expect((await clusterNodes(master)).find((n) => n.flags.includes("myself"))!.flags).toContain("slave");
  }, 300_000);

  it("a second up keeps the cluster: the job finds it formed, no node restarted", async () => {
    const ids = (await clusterNodes(NODES[0]!)).map((n) => n.id).sort();
    const startedAt = () =>
      Promise.all(NODES.map((node) => docker("inspect", "-f", "{{.State.StartedAt}}", node)));
    const started = await startedAt();
    const again = await runLocal(stack, ports, "up", CLUSTER);
    expect(again.exitCode, again.all.slice(-4000)).toBe(0);
    expect(await docker("logs", `${prefix}-redis-cluster-init`)).toContain("the cluster is formed already");
    expect(await startedAt()).toEqual(started);
    expect((await clusterNodes(NODES[0]!)).map((n) => n.id).sort()).toEqual(ids);
    // The job asked every node for cluster_state:ok; a node's view of one link may still flicker
    // on 2 busy cores (a pong later than half the node timeout), so "healthy" is waited for.
    await waitFor("every node's view healthy after the second up", healthy, 60_000, 1000).catch(
      async (error: Error) => {
        throw new Error(`${error.message}; ${NODES[0]} sees:\n${await cli(NODES[0]!, "cluster", "nodes")}`);
      },
    );
  }, 600_000);
});
