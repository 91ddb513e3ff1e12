// The rendered nginx.conf in the real nginx, in front of several instances of the real chat
// service (`node app/dist/cli.js serve`, API.md contract) on loopback: HTTP redirects to HTTPS,
// REST requests spread over every instance, each WebSocket client stays on one instance.
//
// Instances are told apart by the WebSocket `ready` frame's `instance` (set from
// INSTANCE_NAME, as the Docker target does) and by each instance's own /metrics.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadStackConfig } from "../config/load";
import { readStackFile } from "../config/stack-file";
import { type LoopbackNginx, startNginx, stop, writeLoopbackConfig } from "../../test/support/nginx";
import { repoRoot } from "../../test/support/paths";
import { freePort, waitFor } from "../../toolbox/processes";
import { type TlsFixture, makeCertificate } from "../../test/support/tls-fixture";
import { buildPlan } from "../plan/build-plan";

const run = promisify(execFile);
const CLI = join(repoRoot, "app", "dist", "cli.js");
const INSTANCES = 3;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the test services were never set up; run scripts/setup`);
  return value;
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  protocol?: string;
}

let tls: TlsFixture;
let nginx: LoopbackNginx;
let nginxProcess: ChildProcess | undefined;
let redisProcess: ChildProcess | undefined;
const instances: { name: string; port: number; process: ChildProcess; log: string[] }[] = [];
let work: string;
let database: string;
let vhost: string;
let accessToken: string;

function https(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; localAddress?: string } = {},
) {
  return new Promise<Response>((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: nginx.https,
        servername: "localhost",
        ca: tls.certificate,
        method,
        path,
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        headers: { ...(body ? { "content-type": "application/json" } : {}), ...options.headers },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            protocol: (res.socket as TLSSocket).getProtocol?.() ?? undefined,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function httpGet(port: number, path: string) {
  return new Promise<Response>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Total of http_requests_total on one instance, read from the instance itself. */
async function requestCount(port: number): Promise<number> {
  const { body } = await httpGet(port, "/metrics");
  return body
    .split("\n")
    .filter((line) => line.startsWith("http_requests_total"))
    .reduce((sum, line) => sum + Number(line.trim().split(/\s+/).pop()), 0);
}

/** Opens /ws through nginx from a given loopback source address; resolves with the ready frame. */
function readyFrame(localAddress: string): Promise<{ instance: string; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `wss://localhost:${nginx.https}/ws?token=${encodeURIComponent(accessToken)}`,
      {
        ca: tls.certificate,
        localAddress,
      },
    );
    const timer = setTimeout(
      () => reject(new Error(`no ready frame within 10 s (from ${localAddress})`)),
      10_000,
    );
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; instance?: string };
      if (frame.type === "ready") {
        clearTimeout(timer);
        resolve({ instance: String(frame.instance), socket });
      }
    });
    socket.on("error", reject);
  });
}

const closeSocket = (socket: WebSocket) =>
  new Promise<void>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once("close", () => resolve());
    socket.close();
  });

function appEnv(): NodeJS.ProcessEnv {
  const base = new URL(required("CHATAPI_TEST_DATABASE_URL"));
  base.pathname = `/${database}`;
  const rabbit = new URL(required("CHATAPI_TEST_RABBITMQ_URL"));
  rabbit.pathname = `/${vhost}`;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENVIRONMENT: "development",
    LOG_LEVEL: "WARNING",
    DATABASE_URL: base.toString(),
    REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
    RABBITMQ_URL: rabbit.toString(),
    SECRET_KEY: randomBytes(32).toString("hex"),
    SMTP_HOST: required("CHATAPI_TEST_SMTP_HOST"),
    SMTP_PORT: required("CHATAPI_TEST_SMTP_PORT"),
    EMAILS_FROM_EMAIL: "noreply@example.com",
  };
}

let redisPort: number;
let env: NodeJS.ProcessEnv;

async function cli(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args], { env, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`chatapi ${args[0]} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

beforeAll(async () => {
  if (!existsSync(CLI))
    throw new Error(`the chat service is not built (${CLI} is missing): run npm run build`);
  work = mkdtempSync(join(tmpdir(), "chatapi-lb-"));
  tls = makeCertificate("localhost");
  const suffix = randomBytes(4).toString("hex");

  // A throwaway database, a throwaway RabbitMQ vhost and a private Redis: nothing shared.
  database = `chatapi_t_${suffix}`;
  const admin = new pg.Client({ connectionString: required("CHATAPI_TEST_DATABASE_URL") });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  vhost = `chatapi_t_${suffix}`;
  await run("rabbitmqctl", ["-q", "add_vhost", vhost]);
  await run("rabbitmqctl", ["-q", "set_permissions", "-p", vhost, "chatapi", ".*", ".*", ".*"]);
  redisPort = await freePort();
  redisProcess = spawn(
    "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  env = appEnv();

  await cli("migrate");
  const created = JSON.parse(
    await cli("create-client", "--name", "LB test", "--email", `lb-${suffix}@example.com`, "--json"),
  ) as {
    api_key: string;
  };

  for (let n = 1; n <= INSTANCES; n++) {
    const port = await freePort();
    const name = `api-${n}`;
    const log: string[] = [];
    const child = spawn(process.execPath, [CLI, "serve"], {
      env: { ...env, PORT: String(port), INSTANCE_NAME: name },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (chunk: Buffer) => log.push(chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => log.push(chunk.toString()));
    instances.push({ name, port, process: child, log });
  }
  for (const instance of instances) {
    await waitFor(
      `${instance.name} answering /health on ${instance.port} (${instance.log.join("").slice(-500)})`,
      async () => {
        if (instance.process.exitCode !== null)
          throw new Error(`${instance.name} exited: ${instance.log.join("")}`);
        return (await httpGet(instance.port, "/health")).status === 200;
      },
    );
  }

  const file = readStackFile(repoRoot, "local");
  const plan = buildPlan({
    config: loadStackConfig({ stack: "local", ...file, appVersion: "1.0.0" }),
    appVersion: "1.0.0",
  });
  nginx = await writeLoopbackConfig(plan.loadBalancer, join(work, "nginx"), {
    http: await freePort(),
    https: await freePort(),
    upstreams: instances.map((i) => ({ host: "127.0.0.1", port: i.port })),
    tls,
  });
  nginxProcess = await startNginx(nginx);

  // A user of that client and an access token, through the load balancer.
  const auth = { authorization: `Bearer ${created.api_key}`, "x-api-key": created.api_key };
  const user = await https("POST", "/api/v1/users", {
    body: { external_id: `lb-${suffix}`, display_name: "LB test" },
    headers: auth,
  });
  expect(user.status, user.body).toBeLessThan(300);
  const token = await https("POST", "/api/v1/auth/token", {
    body: { user_id: (JSON.parse(user.body) as { id: string }).id },
    headers: auth,
  });
  expect(token.status, token.body).toBe(200);
  accessToken = (JSON.parse(token.body) as { access_token: string }).access_token;
}, 240_000);

afterAll(async () => {
  await stop(nginxProcess, "SIGQUIT");
  await Promise.all(instances.map((i) => stop(i.process)));
  await stop(redisProcess);
  if (database) {
    const admin = new pg.Client({ connectionString: required("CHATAPI_TEST_DATABASE_URL") });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
  if (vhost) await run("rabbitmqctl", ["-q", "delete_vhost", vhost]).catch(() => undefined);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("nginx in front of several chat service instances", () => {
  it("redirects HTTP to HTTPS with a 301, keeping the path", async () => {
    const response = await httpGet(nginx.http, "/api/v1/rooms?limit=5");
    expect(response.status).toBe(301);
    expect(response.headers.location).toBe(`https://localhost:${nginx.https}/api/v1/rooms?limit=5`);
  });

  it("serves /health over TLS 1.2+ with HSTS, and hides /metrics", async () => {
    const health = await https("GET", "/health");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: "healthy" });
    expect(["TLSv1.2", "TLSv1.3"]).toContain(health.protocol);
    expect(health.headers["strict-transport-security"]).toBe("max-age=300");
    expect((await https("GET", "/metrics")).status).toBe(404);
  });

  it("spreads REST requests over every instance", async () => {
    const before = await Promise.all(instances.map((i) => requestCount(i.port)));
    for (let i = 0; i < 30; i++) expect((await https("GET", "/health")).status).toBe(200);
    const after = await Promise.all(instances.map((i) => requestCount(i.port)));
    const served = after.map((count, i) => count - before[i]! - 1); // minus the /metrics read itself
    // Round-robin: 10 each; allow for retries and the counting of /metrics reads.
    for (const [i, count] of served.entries())
      expect(count, `${instances[i]!.name} served ${count} of 30`).toBeGreaterThanOrEqual(5);
  });

  it("keeps each WebSocket client on one instance across reconnects, and spreads clients", async () => {
    // Distinct client addresses (all of 127.0.0.0/8 is loopback); hashed on the full address.
    const clients = [
      "127.0.0.11",
      "127.0.0.12",
      "127.0.0.13",
      "127.0.0.14",
      "127.0.1.15",
      "127.0.2.16",
      "127.0.3.17",
      "127.0.4.18",
    ];
    const seen = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (const address of clients) {
        const { instance, socket } = await readyFrame(address);
        await closeSocket(socket);
        if (!seen.has(address)) seen.set(address, instance);
        expect(instance, `client ${address}, connection ${round + 1}`).toBe(seen.get(address));
      }
    }
    const used = new Set(seen.values());
    expect(
      [...used].every((name) => instances.some((i) => i.name === name)),
      `instances named ${[...used]}`,
    ).toBe(true);
    expect(
      used.size,
      "clients from different addresses should not all share one instance",
    ).toBeGreaterThanOrEqual(2);
  });

  it("gives a client no new address per request by writing X-Forwarded-For (the guard sees the real one)", async () => {
    // AUTH_FAILURES_PER_MINUTE is 30 (the default): a client that picks an address per request
    // would never be blocked if nginx appended to its header and the app believed it.
    const statuses: number[] = [];
    for (let i = 0; i < 34; i++) {
      const response = await https("GET", "/api/v1/clients", {
        headers: { "x-api-key": `cak_spoofed_${i}`, "x-forwarded-for": `203.0.113.${i + 1}` },
        localAddress: "127.0.0.99",
      });
      statuses.push(response.status);
      if (i === 29) await new Promise((resolve) => setTimeout(resolve, 300)); // counted after each answer
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429, 429, 429]);
  });

  it("never writes an access token to its access log (the WebSockets above carried one in ?token=)", () => {
    const log = readFileSync(join(nginx.dir, "access.log"), "utf8");
    expect(log).toContain('"request":"GET /ws HTTP/1.1","status":101');
    expect(log).not.toContain(accessToken.split(".")[2]!);
  });

  it("carries WebSocket frames both ways and keeps the connection open between them", async () => {
    const { socket } = await readyFrame("127.0.0.21");
    const pong = new Promise<unknown>((resolve) =>
      socket.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as { type: string };
        if (frame.type === "pong") resolve(frame);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    socket.send(JSON.stringify({ type: "ping" }));
    expect(await pong).toEqual({ type: "pong" });
    await closeSocket(socket);
  });
});
