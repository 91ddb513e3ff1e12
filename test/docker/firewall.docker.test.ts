// The host firewall applied by the deploy itself (issue 26, point 4), proven with network
// namespaces on this machine. This machine plays the Docker host; a bridge of the test's own
// (fw<id>) is its "external interface", with two outside machines on it, each a network namespace:
// `outside` (any address on the internet) and `admin` (inside chatapi:firewall.sshAllowFrom).
// The stack publishes nginx on the bridge's address at 80/443; the host also answers on an SSH
// port and on PostgreSQL, Redis, RabbitMQ and API ports (test listeners standing for services
// bound to every address), and a stray container publishes another port. From each namespace,
// every port is probed: before the firewall, with it (`scripts/local up --set
// firewall.enabled=true` adds the firewall container), and after `scripts/local down`. Only
// 80/443 (and SSH from admin) may answer while it is applied; a second apply changes nothing;
// the host's INPUT and DOCKER-USER rules are the same before, during (beside our two jumps) and
// after. Nothing outside the test's own bridge and namespaces is ever filtered: the rules match
// only traffic coming in on that bridge. Prints the probe table.
import { randomBytes } from "node:crypto";
import { type Server, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, run } from "../../toolbox/exec";
import { stackContainers } from "../../scripts/lib/stack-health";
import { waitFor } from "../../toolbox/processes";
import { TestStack } from "../support/test-stack";

const id = randomBytes(2).toString("hex");
const BRIDGE = `fw${id}`;
const SUBNET = "10.226.0";
const HOST = `${SUBNET}.1`;
const namespaces = { outside: `fw${id}-out`, admin: `fw${id}-adm` } as const;
const addresses = { outside: `${SUBNET}.2`, admin: `${SUBNET}.3` } as const;
const SSH_PORT = 2222;
/** Host services a careless host would expose (test listeners on the bridge address). */
const HOST_PORTS = { PostgreSQL: 5432, Redis: 6379, RabbitMQ: 5672, "API (8000)": 8000 } as const;
/** A container that publishes a port it should not (an API instance published by mistake). */
const STRAY = `fw${id}-stray`;
const STRAY_PORT = 8001;
let stack: TestStack;
const listeners: Server[] = [];
let nginxAddress = "";
const table: Record<string, Record<string, string>> = {};

async function sh(command: string, ...args: string[]) {
  return run(command, args, { reject: false });
}

/** Can `source` open a TCP connection to address:port within 3 s? */
async function reaches(source: keyof typeof namespaces, address: string, port: number): Promise<boolean> {
  const result = await sh(
    "ip",
    "netns",
    "exec",
    namespaces[source],
    "timeout",
    "3",
    "bash",
    "-c",
    `exec 3<>/dev/tcp/${address}/${port}`,
  );
  return result.exitCode === 0;
}

/** Every probe from both namespaces: "reached" or "blocked", recorded under `phase`. */
async function probe(phase: string): Promise<Record<string, boolean>> {
  const targets: [string, string, number][] = [
    [`SSH ${SSH_PORT}`, HOST, SSH_PORT],
    ["HTTP 80 (nginx)", HOST, 80],
    ["HTTPS 443 (nginx)", HOST, 443],
    ...Object.entries(HOST_PORTS).map(([name, port]): [string, string, number] => [
      `${name} ${port} (host)`,
      HOST,
      port,
    ]),
    [`published ${STRAY_PORT} (stray container)`, HOST, STRAY_PORT],
    ["nginx container address :8443", nginxAddress, 8443],
  ];
  const out: Record<string, boolean> = {};
  for (const source of Object.keys(namespaces) as (keyof typeof namespaces)[]) {
    for (const [name, address, port] of targets) {
      const reached = await reaches(source, address, port);
      out[`${source} → ${name}`] = reached;
      (table[`${source} → ${name}`] ??= {})[phase] = reached ? "reached" : "blocked";
    }
  }
  return out;
}

/** The host's own chains, as iptables prints them, without our jumps. */
async function hostRules(): Promise<string> {
  const chains: string[] = [];
  for (const tool of ["iptables", "ip6tables"])
    for (const chain of ["INPUT", "DOCKER-USER"]) {
      const rules = await sh(tool, "-S", chain);
      chains.push(
        rules.stdout
          .split("\n")
          .filter((l) => !l.includes("--comment chatapi-"))
          .join("\n"),
      );
    }
  return chains.join("\n");
}

/** Our chains and jumps, as iptables prints them (empty when nothing of ours is there). */
async function ourRules(): Promise<string> {
  const out = await sh(
    "bash",
    "-c",
    // The firewall's own chains and its jumps (not the local cluster's CHATAPI-* NAT chains).
    "{ iptables-save -t filter; ip6tables-save -t filter; } | grep -e CHATAPI-INPUT -e CHATAPI-DOCKER-USER -e 'comment chatapi-' || true",
  );
  return out.stdout.replace(/\[\d+:\d+\]/g, "");
}

beforeAll(async () => {
  // The bridge and the two outside machines.
  await run("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  await run("ip", ["addr", "add", `${HOST}/24`, "dev", BRIDGE]);
  await run("ip", ["link", "set", BRIDGE, "up"]);
  for (const [name, ns] of Object.entries(namespaces)) {
    const host = `${ns}-h`.slice(0, 15);
    await run("ip", ["netns", "add", ns]);
    await run("ip", ["link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await run("ip", ["link", "set", host, "master", BRIDGE, "up"]);
    await run("ip", [
      "-n",
      ns,
      "addr",
      "add",
      `${addresses[name as keyof typeof addresses]}/24`,
      "dev",
      "eth0",
    ]);
    await run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await run("ip", ["-n", ns, "route", "add", "default", "via", HOST]);
  }
  // What the host answers on, on the bridge address.
  for (const port of [SSH_PORT, ...Object.values(HOST_PORTS)]) {
    const server = createServer((socket) => socket.end());
    const listening = await new Promise<boolean>((resolve, reject) =>
      server
        .once("error", (error: NodeJS.ErrnoException) =>
          // A service of this host already listens on every address (Debian's RabbitMQ does):
          // the host answers on the bridge address anyway, which is what the probes need.
          error.code === "EADDRINUSE" ? resolve(false) : reject(error),
        )
        .listen(port, HOST, () => resolve(true)),
    );
    if (listening) listeners.push(server);
  }
  await docker(
    "run",
    "-d",
    "--name",
    STRAY,
    "-p",
    `${HOST}:${STRAY_PORT}:8080`,
    "--read-only",
    "--tmpfs",
    "/tmp",
    "chatapi-local/nginx-unprivileged:1",
  );
  stack = await TestStack.create("fw", [
    `nginx.publishAddress=${HOST}`,
    `firewall.externalInterface=${BRIDGE}`,
    `firewall.sshPort=${SSH_PORT}`,
    `firewall.sshAllowFrom=["${addresses.admin}/32"]`,
  ]);
}, 300_000);

afterAll(async () => {
  if (stack) await stack.remove();
  await sh("docker", "rm", "-f", STRAY);
  for (const server of listeners) server.close();
  for (const ns of Object.values(namespaces)) await sh("ip", "netns", "del", ns);
  await sh("ip", "link", "del", BRIDGE);
  const phases = ["without", "applied", "removed"];
  console.log(
    [
      "firewall probes (source namespace → port):",
      `  ${"".padEnd(58)} ${phases.map((p) => p.padEnd(9)).join(" ")}`,
      ...Object.entries(table).map(
        ([probe, result]) =>
          `  ${probe.padEnd(58)} ${phases.map((p) => (result[p] ?? "-").padEnd(9)).join(" ")}`,
      ),
    ].join("\n"),
  );
  // Nothing of ours may be left on this machine (a run stopped half-way: remove it here).
  const left = await ourRules();
  if (left.trim()) {
    console.error(`left behind in iptables, removing:\n${left}`);
    for (const tool of ["iptables", "ip6tables"]) {
      for (const chain of ["INPUT", "DOCKER-USER"]) {
        const rules = (await sh(tool, "-S", chain)).stdout.split("\n");
        for (const rule of rules.filter((r) => stack && r.includes(`--comment ${stack.prefix} `)))
          await sh(tool, ...rule.replace(/^-A /, "-D ").split(" "));
      }
      for (const chain of ["CHATAPI-INPUT", "CHATAPI-DOCKER-USER"]) {
        await sh(tool, "-F", chain);
        await sh(tool, "-X", chain);
      }
    }
  }
}, 300_000);

describe("the host firewall, applied by the deploy (network namespaces on this machine)", () => {
  let hostBefore = "";

  it("without it, the outside reaches the host's services and a stray published port (what it must stop)", async () => {
    // 80/443 are the ports of the standard HTTP(S) stack settings: published on the bridge address only.
    const up = await stack.up(["nginx.httpPort=80", "nginx.httpsPort=443"], ["--no-smoke"]);
    expect(up.exitCode, up.all.slice(-4000)).toBe(0);
    expect((await stackContainers(stack.name)).some((c) => c.role === "firewall")).toBe(false);
    const networks = JSON.parse(
      await docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", `${stack.prefix}-nginx`),
    ) as Record<string, { IPAddress: string }>;
    nginxAddress = networks[`${stack.prefix}-public`]!.IPAddress;
    hostBefore = await hostRules();
    expect(await ourRules()).toBe("");
    const seen = await probe("without");
    for (const source of ["outside", "admin"]) {
      expect(seen[`${source} → HTTPS 443 (nginx)`]).toBe(true);
      expect(seen[`${source} → PostgreSQL 5432 (host)`]).toBe(true);
      expect(seen[`${source} → SSH ${SSH_PORT}`]).toBe(true);
      expect(seen[`${source} → published ${STRAY_PORT} (stray container)`]).toBe(true);
    }
  });

  it("applied by scripts/local up: only 80/443 from anywhere and SSH from the allowed address come in", async () => {
    const up = await stack.up(
      ["nginx.httpPort=80", "nginx.httpsPort=443", "firewall.enabled=true"],
      ["--no-smoke"],
    );
    expect(up.exitCode, up.all.slice(-4000)).toBe(0);
    const firewall = (await stackContainers(stack.name)).find((c) => c.role === "firewall");
    expect(firewall).toMatchObject({ status: "running", health: "healthy" });
    const seen = await probe("applied");
    const allowed = (key: string) => /→ HTTP 80 |→ HTTPS 443 /.test(key) || key === `admin → SSH ${SSH_PORT}`;
    for (const [key, reached] of Object.entries(seen)) expect(reached, key).toBe(allowed(key));
    // The host's own rules are all there, unchanged; ours are two chains and one jump to each.
    expect(await hostRules()).toBe(hostBefore);
    const ours = await ourRules();
    expect(ours).toContain(`-A INPUT -i ${BRIDGE} -m comment --comment ${stack.prefix} -j CHATAPI-INPUT`);
    expect(ours).toContain(
      `-A DOCKER-USER -i ${BRIDGE} -m comment --comment ${stack.prefix} -j CHATAPI-DOCKER-USER`,
    );
  });

  it("a second apply changes nothing: scripts/local up again, and the firewall container restarted", async () => {
    const before = await ourRules();
    const again = await stack.up(
      ["nginx.httpPort=80", "nginx.httpsPort=443", "firewall.enabled=true"],
      ["--no-smoke"],
    );
    expect(again.exitCode, again.all.slice(-4000)).toBe(0);
    expect(await ourRules()).toBe(before);
    await docker("restart", `${stack.prefix}-firewall`);
    await waitFor(
      "the firewall container to be healthy again",
      async () =>
        (await stackContainers(stack.name)).find((c) => c.role === "firewall")?.health === "healthy",
      120_000,
    );
    expect(await ourRules()).toBe(before);
    expect(await hostRules()).toBe(hostBefore);
  });

  it("removed by scripts/local down: nothing of it is left, the host's rules are as they were", async () => {
    const down = await stack.local("down", [], 300_000);
    expect(down.exitCode, down.all).toBe(0);
    expect(await ourRules()).toBe("");
    expect(await hostRules()).toBe(hostBefore);
    const seen = await probe("removed");
    expect(seen["outside → PostgreSQL 5432 (host)"]).toBe(true);
    expect(seen[`outside → SSH ${SSH_PORT}`]).toBe(true);
  });
});
