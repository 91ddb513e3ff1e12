// The local stack for real, on the Docker engine, through the same command developers run
// (scripts/local = npm run local), under its own stack name and free ports so it never touches
// a developer's `local` stack: up from nothing with the smoke check, the operator's smoke
// script, non-root processes, data stores out of the host's reach, idempotent re-runs, an API
// container killed mid-conversation without losing a message, and down/up keeping the data.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage, ChatSocket, Frame } from "../../toolbox/chat-client";
import { StackClient } from "../../toolbox/stack-client";
import * as pulumi from "@pulumi/pulumi";
import { docker, run } from "../../toolbox/exec";
import { applyOverrides } from "../../scripts/lib/stack-plan";
import { readStackFile } from "../../components/config/stack-file";
import { runProgram } from "../../stacks/program";
import {
  type InspectedContainer,
  type InspectedImage,
  diffSpecs,
  fromInspect,
  fromPulumiMocks,
  withImageDefaults,
} from "../support/container-view";
import { installMocks, valueOf } from "../support/pulumi-mocks";
import { stackDir } from "../../scripts/lib/stack-dir";
import { stackContainers } from "../../scripts/lib/stack-health";
import { readReleases } from "../../scripts/lib/releases";
import { reloadNginx } from "../../components/docker/nginx-reload";
import { requireImages } from "../support/images";
import { repoRoot } from "../support/paths";
import { instanceContainer, runLocal } from "../support/local-stack";
import { freePort, waitFor } from "../../toolbox/processes";

const mocks = installMocks();
const stack = `lt${randomUUID().slice(0, 6)}`;
const prefix = `chatapi-${stack}`;
const dir = stackDir(stack);
let ports: { http: number; https: number };
let url: string;
let chat: StackClient;
let adminApiKey: string;
let firstUp: { exitCode: number; all: string };

const local = (command: "up" | "down", ...extra: string[]) => runLocal(stack, ports, command, extra);

const containerIds = async () =>
  Object.fromEntries(
    (await docker("ps", "-a", "--filter", `label=chatapi.stack=${stack}`, "--format", "{{.Names}} {{.ID}}"))
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" ") as [string, string]),
  );

beforeAll(async () => {
  await requireImages([
    "chatapi-local/postgres:15",
    "chatapi-local/nginx-unprivileged:1",
    "chatapi-local/chatapi:1.0.0",
  ]);
  ports = { http: await freePort(), https: await freePort() };
  firstUp = await local("up");
  if (firstUp.exitCode !== 0) throw new Error(`scripts/local up failed:\n${firstUp.all.slice(-6000)}`);
  url = `https://localhost:${ports.https}/`;
  chat = new StackClient({ url, ca: readFileSync(join(dir, "ca.pem"), "utf8") });
  adminApiKey = readFileSync(join(dir, "secrets", "admin_api_key"), "utf8").trim();
}, 900_000);

afterAll(async () => {
  chat?.close();
  if (!ports) return;
  const down = await local("down", "--volumes");
  if (down.exitCode !== 0) console.error(down.all);
  // Nothing of the test stack may be left behind.
  const left = await docker("ps", "-aq", "--filter", `label=chatapi.stack=${stack}`);
  const volumes = await docker("volume", "ls", "-q", "--filter", `label=chatapi.stack=${stack}`);
  if (left || volumes) console.error(`left behind: containers ${left}; volumes ${volumes}`);
}, 300_000);

describe("npm run local (scripts/local) on the real Docker engine", () => {
  it("brings the whole stack up from nothing, says which engine and why, and passes the smoke check", async () => {
    const out = firstUp.all;
    expect(out).toMatch(/engine: compose \(.+\)/);
    // Compose v2+ (the docker CLI plugin scripts/setup builds): the v1 fallback has its own test.
    expect(out).toMatch(/compose: docker compose \(Compose v2\+ \(docker compose version \d+\.\d+\.\d+\)\)/);
    expect(out).toContain("images: offline (--offline)");
    expect(out).toContain("smoke check passed (9 checks)");
    expect(out).toContain(`HTTPS       https://localhost:${ports.https}/`);
    expect(out).toContain(`WebSocket   wss://localhost:${ports.https}/ws`);
    expect(out).toContain(`cat ${join(dir, "secrets", "admin_api_key").replace(`${homedir()}/`, "~/")}`);
    // The admin key is where it says, and not in the output.
    expect(out).not.toContain(adminApiKey);
    const containers = await stackContainers(stack);
    const names = containers.map((c) => c.name).sort();
    // The app's containers are the live release's (docs/DEPLOYS.md): its id is in their names.
    const release = readReleases(dir).live!;
    expect(release).toMatch(/^[0-9a-f]{8}$/);
    expect(names).toEqual(
      [
        `api-${release}-1`,
        `api-${release}-2`,
        `backup-${release}`,
        `bootstrap-admin-${release}`,
        `migrate-${release}`,
        "nginx",
        "postgres",
        "rabbitmq",
        "redis",
        `worker-${release}-1`,
      ]
        .map((n) => `${prefix}-${n}`)
        .sort(),
    );
    expect(out).toContain(`up: release ${release} (chatapi-local/chatapi:1.0.0)`);
    expect(out).toMatch(/nginx: starting it with release [0-9a-f]{8}'s instances/);
    for (const c of containers) {
      if (["migrate", "bootstrap-admin"].includes(c.role))
        expect(c, c.name).toMatchObject({ status: "exited", exitCode: 0 });
      else if (!["worker", "backup"].includes(c.role))
        expect(c, c.name).toMatchObject({ status: "running", health: "healthy" });
    }
  });

  it("passes the operator's smoke script against it (TLS verified with the stack's CA)", async () => {
    const result = await run(
      join(repoRoot, "scripts", "smoke"),
      ["--url", url, "--ca", join(dir, "ca.pem"), "--admin-key-file", join(dir, "secrets", "admin_api_key")],
      { reject: false },
    );
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(
      /WebSocket clients through the load balancer: alice on api-[0-9a-f]{8}-\d, bob on api-[0-9a-f]{8}-\d/,
    );
    // Without the CA the same check fails on the certificate.
    const untrusted = await run(
      join(repoRoot, "scripts", "smoke"),
      ["--url", url, "--admin-key-file", join(dir, "secrets", "admin_api_key")],
      { reject: false },
    );
    expect(untrusted.exitCode).toBe(1);
    expect(untrusted.stderr).toMatch(/self-signed certificate|unable to verify/);
  });

  it("runs exactly the containers the Pulumi Docker target would create from the same plan (docker inspect)", async () => {
    // The Pulumi program under runtime mocks, from the same stack file and overrides.
    const file = readStackFile(repoRoot, "local");
    const result = runProgram({
      stack,
      config: applyOverrides(file.config, [
        "images.preset=offline", // as scripts/local --offline
        `nginx.httpPort=${ports.http}`,
        `nginx.httpsPort=${ports.https}`,
      ]),
      secretKeys: file.secretKeys,
      projectDir: repoRoot,
    });
    const groups = Object.values(result.docker?.groups ?? {});
    const pulumiAdminId = await valueOf(
      pulumi
        .all([...groups.flatMap((g) => g!.containers.map((c) => c.id)), result.outputs.adminClientId])
        .apply((v) => v.at(-1) as string),
    );
    const realAdminId = (
      JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { admin_client_id: string }
    ).admin_client_id;
    const containers = fromPulumiMocks(mocks.captured.filter((r) => r.name.startsWith(`${prefix}-`)));
    // Each engine computes the release id from what it knows (Pulumi: the image reference;
    // compose: the image's ID and a digest of the files): compare with compose's in its place.
    const pulumiRelease = result.docker!.release;
    const release = readReleases(dir).live!;
    const differences: string[] = [];
    for (const [pulumiName, pulumiView] of containers) {
      const name = pulumiName.replaceAll(pulumiRelease, release);
      const fromPlan = JSON.parse(
        JSON.stringify(pulumiView).replaceAll(pulumiRelease, release),
      ) as typeof pulumiView;
      // The release ids in the aliases changed: sort them again (both sides are sorted lists).
      for (const aliases of Object.values(fromPlan.networks)) aliases.sort();
      const [inspected] = JSON.parse(await docker("inspect", name)) as InspectedContainer[];
      // A release runs its image pinned by a tag of the stack's own: the same image.
      if (inspected!.Config.Image.startsWith(`chatapi-${stack}/app:`)) {
        const id = (ref: string) => docker("image", "inspect", "--format", "{{.Id}}", ref);
        expect(await id(inspected!.Config.Image)).toBe(await id(fromPlan.image));
        fromPlan.image = inspected!.Config.Image;
      }
      const [image] = JSON.parse(
        await docker("image", "inspect", inspected!.Config.Image),
      ) as InspectedImage[];
      const expected = withImageDefaults(fromPlan, image!);
      expected.command = expected.command.map((a) => (a === pulumiAdminId ? "<admin id>" : a));
      // Both sides completed from the image: an entrypoint or env the plan states explicitly may
      // equal the image's own, which inspect cannot tell apart from an inherited one.
      const actual = withImageDefaults(fromInspect(inspected!, image!, join(dir, "files")), image!);
      actual.command = actual.command.map((a) => (a === realAdminId ? "<admin id>" : a));
      differences.push(...diffSpecs(expected, actual, name, ["pulumi", "running"]));
      // The pids limit, which only compose can set, is on the running container too.
      expect(inspected!.HostConfig.PidsLimit, name).toBeGreaterThanOrEqual(32);
    }
    expect(containers.size).toBe(10);
    expect(differences).toEqual([]);
  });

  it("runs every process as its non-root user", async () => {
    const expected: Record<string, string> = {
      "api-1": "10001",
      "api-2": "10001",
      nginx: "101",
      postgres: "999",
      redis: "999",
      rabbitmq: "999",
    };
    const containerOf = async (name: string) => {
      const [role, index] = name.split("-");
      return index ? instanceContainer(stack, role!, Number(index)) : `${prefix}-${name}`;
    };
    for (const [name, uid] of Object.entries(expected)) {
      const top = await docker("top", await containerOf(name), "-eo", "uid,pid,comm");
      const uids = top
        .split("\n")
        .slice(1)
        .map((line) => line.trim().split(/\s+/)[0]);
      expect(uids.length, name).toBeGreaterThan(0);
      expect(new Set(uids), `${name}: ${top}`).toEqual(new Set([uid]));
    }
    const api1 = await containerOf("api-1");
    const status = await docker("exec", api1, "cat", "/proc/self/status");
    expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    const write = await run("docker", ["exec", api1, "touch", "/app/x"], { reject: false });
    expect(write.stderr).toMatch(/Read-only file system/);
  });

  it("keeps the data stores out of the host's reach (no published port, no host address on their network)", async () => {
    const probes: Record<string, { port: number; send: Buffer; answered: (reply: Buffer) => boolean }> = {
      postgres: {
        port: 5432,
        send: Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]), // SSLRequest
        answered: (r) => r.length === 1 && (r[0] === 0x53 || r[0] === 0x4e), // 'S' or 'N'
      },
      redis: {
        port: 6379,
        send: Buffer.from("PING\r\n"),
        answered: (r) => /^(\+PONG|-NOAUTH)/.test(r.toString()),
      },
      rabbitmq: {
        port: 5672,
        send: Buffer.from("AMQP\x00\x00\x09\x01", "latin1"),
        answered: (r) => r[0] === 1, // connection.start method frame
      },
    };
    const backend = `${prefix}-backend`;
    for (const [store, probe] of Object.entries(probes)) {
      const name = `${prefix}-${store}`;
      expect(await docker("port", name), `${store} publishes a port`).toBe("");
      const networks = JSON.parse(
        await docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", name),
      ) as Record<string, { IPAddress: string }>;
      expect(Object.keys(networks)).toEqual([backend]);
      const ip = networks[backend]!.IPAddress;
      // From the host: the store's protocol never answers (any TCP reply comes from elsewhere).
      const reply = await probeFromHost(ip, probe.port, probe.send);
      expect(probe.answered(reply), `${store} at ${ip}:${probe.port} answered the host`).toBe(false);
      // The same probe from a container on the backend network does get an answer.
      const inside = await run("docker", [
        "run",
        "--rm",
        "--network",
        backend,
        "--entrypoint",
        "node",
        "chatapi-local/node:24-bookworm",
        "-e",
        `const s=require("net").connect(${probe.port},"${ip}",()=>s.write(Buffer.from("${probe.send.toString("hex")}","hex")));s.once("data",d=>{console.log(d.toString("hex"));process.exit(0)});setTimeout(()=>process.exit(3),5000)`,
      ]);
      expect(probe.answered(Buffer.from(inside.stdout.trim(), "hex")), `${store} from inside`).toBe(true);
    }
    const network = JSON.parse(await docker("network", "inspect", backend)) as {
      Id: string;
      Internal: boolean;
      Options: Record<string, string>;
      IPAM: { Config: { Subnet: string }[] };
    }[];
    expect(network[0]!.Internal).toBe(true);
    expect(network[0]!.Options["com.docker.network.bridge.inhibit_ipv4"]).toBe("true");
    // Its bridge exists on the host, without an IPv4 address (Docker would give it the gateway's).
    const bridge = `br-${network[0]!.Id.slice(0, 12)}`;
    expect((await run("ip", ["-o", "link", "show", "dev", bridge])).stdout).toContain(bridge);
    expect((await run("ip", ["-o", "-4", "addr", "show", "dev", bridge])).stdout.trim()).toBe("");
    // Only nginx publishes, on loopback.
    const publishing: Record<string, string> = {};
    for (const c of await stackContainers(stack)) {
      if (c.status !== "running") continue;
      const bound = await docker("port", c.name);
      if (bound) publishing[c.name] = bound.split("\n").sort().join(", ");
    }
    expect(publishing).toEqual({
      [`${prefix}-nginx`]: `8080/tcp -> 127.0.0.1:${ports.http}, 8443/tcp -> 127.0.0.1:${ports.https}`,
    });
  });

  it("running it again leaves the one healthy stack as it was", async () => {
    const before = await containerIds();
    const again = await local("up");
    expect(again.exitCode, again.all.slice(-3000)).toBe(0);
    expect(again.all).toContain("smoke check passed");
    expect(await containerIds()).toEqual(before);
  }, 600_000);

  it("loses no message when the API container a conversation is on is killed (clients reconnect and resubscribe)", async () => {
    const client = await chat.api<{ api_key: string }>(
      "POST",
      "/clients",
      { apiKey: adminApiKey },
      { name: "kill-test", email: `kill-${stack}@example.com` },
      [201],
    );
    const user = async (name: string) => {
      const u = await chat.api<{ id: string }>(
        "POST",
        "/users",
        { apiKey: client.api_key },
        { external_id: name, display_name: name },
        [201],
      );
      const t = await chat.api<{ access_token: string }>(
        "POST",
        "/auth/token",
        { apiKey: client.api_key },
        { user_id: u.id },
        [200],
      );
      return { id: u.id, token: t.access_token };
    };
    const alice = await user("alice");
    const bob = await user("bob");
    const room = await chat.api<{ id: string }>(
      "POST",
      "/rooms",
      { token: alice.token },
      { name: "kill-test", member_ids: [bob.id] },
      [201],
    );
    const sender = new ReconnectingClient(chat, alice.token, room.id);
    const receiver = new ReconnectingClient(chat, bob.token, room.id);
    await Promise.all([sender.start(), receiver.start()]);
    const victim = sender.instances[0]!;
    expect(victim).toMatch(/^api-[0-9a-f]{8}-\d$/);

    const total = 60;
    const sentIds: string[] = [];
    for (let i = 0; i < total; i++) {
      if (i === 20) await docker("kill", `${prefix}-${victim}`);
      sentIds.push(sender.sendMessage(`message ${i}`));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor("every message acked", async () => sender.pending.size === 0, 90_000);
    await waitFor("every message received by bob", async () => receiver.received.length >= total, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a late duplicate would show up here

    // Both reconnected elsewhere, resubscribed from their last seq, and bob got each message once, in order.
    expect(sender.connections).toBeGreaterThanOrEqual(2);
    expect(receiver.connections).toBeGreaterThanOrEqual(2);
    expect(receiver.instances.at(-1)).not.toBe(victim);
    const seqs = receiver.received.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(receiver.received.map((m) => m.client_msg_id)).toEqual(sentIds);
    sender.stop();
    receiver.stop();

    // Put the stack back: the killed instance running again, nginx re-reading its upstream
    // (it resolved the instances' addresses when it loaded them; a restarted container may have
    // another): the graceful reload the release switch uses.
    const state = await docker("inspect", "--format", "{{.State.Status}}", `${prefix}-${victim}`);
    if (state !== "running") await docker("start", `${prefix}-${victim}`);
    await waitFor(
      `${victim} healthy again`,
      async () =>
        (await docker("inspect", "--format", "{{.State.Health.Status}}", `${prefix}-${victim}`)) ===
        "healthy",
      90_000,
    );
    await reloadNginx({}, { container: `${prefix}-nginx`, config: "/etc/nginx/chatapi/nginx.conf" });
    // The stored history is the same conversation.
    const history = await chat.api<{ messages: ChatMessage[] }>(
      "GET",
      `/rooms/${room.id}/messages?after_seq=0&limit=200`,
      { token: bob.token },
      undefined,
      [200],
    );
    expect(history.messages.map((m) => m.client_msg_id)).toEqual(sentIds);
    killTest = { room: room.id, token: bob.token, ids: sentIds };
  }, 300_000);

  it("local:down then local keeps the data (volumes and secrets stay; containers go)", async () => {
    expect(killTest, "needs the conversation of the previous test").toBeDefined();
    const down = await local("down");
    expect(down.exitCode, down.all).toBe(0);
    expect(down.all).toContain("kept its data volumes (5)");
    expect(await docker("ps", "-aq", "--filter", `label=chatapi.stack=${stack}`)).toBe("");
    const volumes = (await docker("volume", "ls", "-q", "--filter", `label=chatapi.stack=${stack}`))
      .split("\n")
      .sort();
    expect(volumes).toEqual(
      ["backups", "nginx-release", "postgres-data", "rabbitmq-data", "redis-data"].map(
        (v) => `${prefix}-${v}`,
      ),
    );
    expect(existsSync(join(dir, "secrets", "postgres_password"))).toBe(true);

    const up = await local("up");
    expect(up.exitCode, up.all.slice(-3000)).toBe(0);
    const history = await chat.api<{ messages: ChatMessage[] }>(
      "GET",
      `/rooms/${killTest!.room}/messages?after_seq=0&limit=200`,
      { token: killTest!.token },
      undefined,
      [200],
    );
    expect(history.messages.map((m) => m.client_msg_id)).toEqual(killTest!.ids);
    // The same admin key still works (the bootstrap found its client and changed nothing).
    const release = readReleases(dir).live!;
    expect(await docker("logs", `${prefix}-bootstrap-admin-${release}`)).toContain('"created":false');
  }, 900_000);
});

let killTest: { room: string; token: string; ids: string[] } | undefined;

/** Connects over TCP from the host and returns the first reply bytes (empty if none in 3 s). */
function probeFromHost(host: string, port: number, send: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    const done = (reply: Buffer) => {
      socket.destroy();
      resolve(reply);
    };
    socket.on("connect", () => socket.write(send));
    socket.once("data", (data: Buffer) => done(data));
    socket.on("timeout", () => done(Buffer.alloc(0)));
    socket.on("error", () => done(Buffer.alloc(0)));
  });
}

/**
 * A chat client that survives its connection breaking: it reconnects (through the load
 * balancer), resubscribes with the last seq it saw, and re-sends every unacknowledged message
 * with the same client_msg_id (the server stores each once).
 */
class ReconnectingClient {
  socket: ChatSocket | undefined;
  readonly received: ChatMessage[] = [];
  readonly pending = new Map<string, string>();
  readonly instances: string[] = [];
  connections = 0;
  private lastSeq = 0;
  private stopped = false;
  private count = 0;

  constructor(
    private readonly chat: StackClient,
    private readonly token: string,
    private readonly roomId: string,
  ) {}

  async start(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const socket = await this.chat.openSocket(this.token, undefined, 10_000);
        this.connections += 1;
        this.instances.push(socket.instance);
        socket.onFrame((frame) => this.onFrame(frame));
        socket.send({ type: "subscribe", room_id: this.roomId, after_seq: this.lastSeq });
        await socket.waitFor((f) => f.type === "subscribed", 10_000);
        this.socket = socket;
        for (const [id, body] of this.pending) socket.send(this.sendFrame(id, body));
        void socket.closed.then(() => {
          if (!this.stopped) void this.start();
        });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private sendFrame(id: string, body: string): Frame {
    return { type: "send", room_id: this.roomId, body, client_msg_id: id };
  }

  private onFrame(frame: Frame): void {
    if (frame.type === "ack") this.pending.delete(String(frame.client_msg_id));
    if (frame.type === "message") {
      const message = frame.message as ChatMessage;
      if (message.room_id !== this.roomId) return;
      this.received.push(message);
      this.lastSeq = Math.max(this.lastSeq, message.seq);
    }
  }

  sendMessage(body: string): string {
    const id = `${++this.count}-${randomUUID()}`;
    this.pending.set(id, body);
    this.socket?.send(this.sendFrame(id, body));
    return id;
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close();
  }
}
