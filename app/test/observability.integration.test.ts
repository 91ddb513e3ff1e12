// Logs, security headers, CORS, TLS, the rotating log file and Sentry: what operators rely on.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, LOG_FILE_BACKUPS } from "../src/observability/logger.js";
import { initSentry } from "../src/observability/sentry.js";
import { startInProcess, type InProcessServer } from "./support/in-process.js";
import { startAppProcess } from "../../toolbox/processes.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";
import { call, connect, createTenant } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let server: InProcessServer;
let adminKey: string;
const dir = mkdtempSync(join(tmpdir(), "chatapi-obs-"));

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  server = await startInProcess(
    appEnv(db.url, {
      LOG_LEVEL: "DEBUG",
      BACKEND_CORS_ORIGINS: '["https://app.example.com"]',
      RATE_LIMIT_PER_MINUTE: "100000",
    }),
  );
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe("request logs", () => {
  it("are JSON with a request id, and never contain keys or tokens", async () => {
    const t = await createTenant(server.url, adminKey, "logs");
    const u = await t.newUser("logged");
    const refreshed = await call(server.url, "POST", "/api/v1/auth/refresh", {
      body: { refresh_token: u.refresh },
    });
    const r = await call(server.url, "GET", "/api/v1/rooms", {
      token: u.token,
      headers: { "x-request-id": "req-abc.123" },
    });
    expect(r.headers.get("x-request-id")).toBe("req-abc.123");
    const generated = await call(server.url, "GET", "/api/v1/rooms", {
      token: u.token,
      headers: { "x-request-id": "bad id with spaces" },
    });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const ws = await connect(server.url, u.token);
    ws.close();
    await ws.closed;
    const lines = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = lines.find((l) => (l.req as { id?: string } | undefined)?.id === "req-abc.123");
    expect(line).toMatchObject({
      level: "info",
      service: "chatapi",
      req: { method: "GET", url: "/api/v1/rooms" },
      res: { status: 200 },
    });
    const all = server.logs.join("\n");
    for (const secret of [
      adminKey,
      t.apiKey,
      u.token,
      u.refresh,
      refreshed.body.access_token as string,
      refreshed.body.refresh_token as string,
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toContain("authorization");
  });
});

describe("HTTP hardening", () => {
  it("sends security headers and no X-Powered-By", async () => {
    const r = await fetch(`${server.url}/health`);
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(r.headers.get("strict-transport-security")).toContain("max-age=");
    expect(r.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(r.headers.get("x-powered-by")).toBeNull();
  });

  it("answers CORS for BACKEND_CORS_ORIGINS only", async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/v1/rooms`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
    const allowed = await preflight("https://app.example.com");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const denied = await preflight("https://evil.example.com");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("TLS", () => {
  it("serves HTTPS and WSS when SSL_KEYFILE and SSL_CERTFILE are set", async () => {
    const key = join(dir, "tls.key");
    const cert = join(dir, "tls.crt");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
      ],
      { stdio: "ignore" },
    );
    const app = await startAppProcess(appEnv(db.url, { SSL_KEYFILE: key, SSL_CERTFILE: cert }));
    try {
      expect(app.output.join("\n")).toContain(`listening on https://`);
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`https://127.0.0.1:${app.port}/health`, { rejectUnauthorized: false }, (res) => {
            let text = "";
            res.on("data", (c: Buffer) => (text += c.toString()));
            res.on("end", () => resolve(text));
          })
          .on("error", reject);
      });
      expect(JSON.parse(body)).toMatchObject({ status: "healthy" });
      const t = await createTenant(server.url, adminKey, "tls");
      const u = await t.newUser("tls");
      const s = await connect(
        `https://127.0.0.1:${app.port}`,
        u.token,
        {},
        {
          rejectUnauthorized: false,
        },
      );
      expect(s.frames[0]!.type).toBe("ready");
      s.close();
    } finally {
      await app.stop();
    }
  });
});

describe("log file", () => {
  it("LOG_FILE receives the JSON logs too", async () => {
    const logFile = join(dir, "logs", "chatapi.log");
    execFileSync("mkdir", ["-p", join(dir, "logs")]);
    const app = await startAppProcess(appEnv(db.url, { LOG_FILE: logFile }));
    await call(app.url, "GET", "/api/v1/rooms");
    expect(await app.stop()).toBe(0);
    const lines = readFileSync(logFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.some((l) => l.msg.startsWith("listening on"))).toBe(true);
    expect(lines.some((l) => l.msg.startsWith("GET /api/v1/rooms 401"))).toBe(true);
  });

  it("rotates at 10 MB like the guide's RotatingFileHandler (chatapi.log.1 ...)", async () => {
    const logDir = join(dir, "rotate");
    execFileSync("mkdir", ["-p", logDir]);
    const logger = createLogger({
      level: "info",
      instance: "t",
      environment: "test",
      logFile: join(logDir, "chatapi.log"),
      destination: pino.destination({ dest: "/dev/null", sync: true }),
    });
    const filler = "x".repeat(1000);
    for (let i = 0; i < 11_000; i++) logger.info({ filler }, "line");
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    for (let i = 0; i < 100 && !existsSync(join(logDir, "chatapi.log.1")); i++)
      await new Promise((r) => setTimeout(r, 50));
    const files = readdirSync(logDir).sort();
    expect(files).toContain("chatapi.log");
    expect(files).toContain("chatapi.log.1");
    expect(statSync(join(logDir, "chatapi.log.1")).size).toBeLessThanOrEqual(10 * 1024 * 1024 + 2048);
    expect(LOG_FILE_BACKUPS).toBe(5);
  });
});

describe("Sentry", () => {
  it("loads @sentry/node when SENTRY_DSN is set and delivers captured errors", async () => {
    const received: string[] = [];
    const ingest = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("latin1")));
      req.on("end", () => {
        received.push(`${req.url}\n${body}`);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => ingest.listen(0, "127.0.0.1", () => r()));
    const port = (ingest.address() as { port: number }).port;
    try {
      const reporter = await initSentry(`http://publickey@127.0.0.1:${port}/42`, {
        environment: "test",
        release: "1.0.0",
        logger: pino({ level: "silent" }),
      });
      reporter.capture(new Error("sentry-probe-error"), { where: "test" });
      await reporter.flush(5000);
      expect(
        received.some((r) => r.startsWith("/api/42/envelope/") && r.includes("sentry-probe-error")),
      ).toBe(true);
    } finally {
      ingest.close();
    }
  });
});
