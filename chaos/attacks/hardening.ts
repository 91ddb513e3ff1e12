// Runtime hardening of the running local stack: every process of every container runs as a
// non-root user, writes to the root filesystem fail, the data stores (PostgreSQL, Redis,
// RabbitMQ) publish no port and do not answer the host, and no container's environment holds a
// secret value (secrets arrive as files, the variables name the files).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { connect as tcp } from "node:net";
import { join } from "node:path";
import { leakedSecrets } from "../../test/support/secret-search";
import type { AttackResult, Scale } from "../lib/results";
import { acquireStack, docker, run } from "./lib/local-stack";

type Check = AttackResult["checks"][number];

/** First reply bytes of a TCP conversation started from the host (empty when none in 3 s). */
function probeFromHost(host: string, port: number, send: Buffer): Promise<Buffer> {
  return new Promise((done) => {
    const socket = tcp({ host, port, timeout: 3000 });
    const finish = (reply: Buffer) => {
      socket.destroy();
      done(reply);
    };
    socket.on("connect", () => socket.write(send));
    socket.once("data", (data: Buffer) => finish(data));
    socket.on("timeout", () => finish(Buffer.alloc(0)));
    socket.on("error", () => finish(Buffer.alloc(0)));
  });
}

const STORES: Record<string, { port: number; send: Buffer; answered: (r: Buffer) => boolean }> = {
  postgres: {
    port: 5432,
    send: Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]),
    answered: (r) => r.length === 1 && (r[0] === 0x53 || r[0] === 0x4e),
  },
  redis: {
    port: 6379,
    send: Buffer.from("PING\r\n"),
    answered: (r) => /^(\+PONG|-NOAUTH)/.test(r.toString()),
  },
  rabbitmq: { port: 5672, send: Buffer.from("AMQP\x00\x00\x09\x01", "latin1"), answered: (r) => r[0] === 1 },
};

export async function runtimeHardening(_scale: Scale): Promise<AttackResult> {
  const stack = await acquireStack();
  const checks: Check[] = [];
  let attempts = 0;
  let failures = 0;
  try {
    const containers = (await stack.containers()).filter((c) => c.status === "running");
    checks.push({
      name: `the stack ${stack.name} is running (${stack.owned ? "brought up for this run" : "reused"})`,
      ok: containers.some((c) => c.role === "api"),
    });

    // 1. Non-root: every process of every running container.
    const rootProcs: string[] = [];
    for (const c of containers) {
      attempts++;
      const top = await docker("top", c.name, "-eo", "uid,pid,comm");
      for (const line of top.split("\n").slice(1).filter(Boolean)) {
        const [uid, , comm] = line.trim().split(/\s+/);
        if (uid === "0") rootProcs.push(`${c.name}: ${comm}`);
      }
    }
    failures += rootProcs.length;
    checks.push({
      name: `no process runs as root in the ${containers.length} running containers`,
      ok: rootProcs.length === 0,
      detail: rootProcs.join(", ") || undefined,
    });

    // 2. Writes to the root filesystem fail (read-only root; only declared volumes/tmpfs are writable).
    const writable: string[] = [];
    const readOnly: string[] = [];
    const unprobed: string[] = [];
    for (const c of containers) {
      const ro =
        (await docker("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", c.name)).trim() === "true";
      if (ro) readOnly.push(c.name);
      for (const path of ["/chaos-probe", "/etc/chaos-probe", "/usr/local/chaos-probe"]) {
        attempts++;
        const write = await run("docker", ["exec", c.name, "sh", "-c", `echo x > ${path}`], {
          reject: false,
        });
        if (write.exitCode === 0) {
          writable.push(`${c.name}:${path}`);
          await run("docker", ["exec", c.name, "rm", "-f", path], { reject: false });
        } else if (!/Read-only file system|Permission denied/.test(write.all)) {
          // The probe itself failed (no shell?): that proves nothing.
          unprobed.push(`${c.name}: ${write.all.trim().slice(0, 80)}`);
        }
      }
    }
    failures += writable.length;
    checks.push({
      name: "writes to /, /etc and /usr/local fail in every container",
      ok: writable.length === 0,
      detail: writable.join(", ") || undefined,
    });
    const notRo = containers.filter((c) => !readOnly.includes(c.name)).map((c) => c.name);
    checks.push({
      name: "every container has a read-only root filesystem",
      ok: notRo.length === 0,
      detail: notRo.length ? `not read-only: ${notRo.join(", ")}` : `${readOnly.length} read-only`,
    });
    if (notRo.length) failures += notRo.length;

    // 3. Data stores: no published port, no answer to the host.
    const exposed: string[] = [];
    for (const [store, probe] of Object.entries(STORES)) {
      const name = `${stack.prefix}-${store}`;
      if (!containers.some((c) => c.name === name)) {
        exposed.push(`${store}: not running`);
        continue;
      }
      attempts += 2;
      const published = await docker("port", name);
      if (published) exposed.push(`${store} publishes ${published.replace(/\n/g, ", ")}`);
      const networks = JSON.parse(
        await docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", name),
      ) as Record<string, { IPAddress: string }>;
      for (const [network, { IPAddress }] of Object.entries(networks)) {
        if (!IPAddress) continue;
        const reply = await probeFromHost(IPAddress, probe.port, probe.send);
        if (probe.answered(reply))
          exposed.push(`${store} answers the host at ${IPAddress}:${probe.port} (${network})`);
      }
    }
    failures += exposed.length;
    checks.push({
      name: "PostgreSQL, Redis and RabbitMQ publish no port and do not answer the host",
      ok: exposed.length === 0,
      detail: exposed.join("; ") || undefined,
    });

    // 4. Container environments hold no secret values.
    const secretsDir = join(stack.dir, "secrets");
    const secrets: Record<string, string> = {};
    try {
      for (const file of readdirSync(secretsDir)) {
        const path = join(secretsDir, file);
        if (statSync(path).isFile()) {
          const value = readFileSync(path, "utf8").trim();
          if (value.length >= 12) secrets[file] = value;
        }
      }
    } catch {
      // a reused stack from another machine user: no secrets folder to compare with
    }
    const envLeaks: string[] = [];
    for (const c of containers) {
      attempts++;
      const env = await docker("inspect", "--format", "{{json .Config.Env}}", c.name);
      for (const name of leakedSecrets(env, secrets)) envLeaks.push(`${c.name}: ${name}`);
    }
    failures += envLeaks.length;
    checks.push({
      name: `no container's environment holds one of the stack's ${Object.keys(secrets).length} secrets`,
      ok: envLeaks.length === 0 && Object.keys(secrets).length > 0,
      detail: envLeaks.join("; ") || undefined,
    });
    return {
      id: "runtime-hardening",
      title: "Runtime hardening of the local Docker stack",
      attempts,
      expected:
        "no root process, read-only root filesystems, data stores unreachable from the host, no secret in container environments",
      outcome: `${containers.length} containers: ${rootProcs.length} root processes, ${writable.length} writable root paths, ${exposed.length} exposed stores, ${envLeaks.length} secrets in env`,
      failures,
      checks,
    };
  } finally {
    await stack.release();
  }
}
