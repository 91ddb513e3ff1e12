// The services check: connects to every service the test suite needs, the way the app will,
// and fails with a message naming the missing service and the command that starts it.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import amqp from "amqplib";
import Redis from "ioredis";
import nodemailer from "nodemailer";
import pg from "pg";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const START = "start it with: scripts/setup";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the test services were never set up; ${START}`);
  return value;
}

async function explain<T>(service: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    throw new Error(`${service} is not reachable (${(error as Error).message}); ${START}`);
  }
}

describe("services the test suite needs", () => {
  it("PostgreSQL accepts the app's DATABASE_URL and can create and force-drop throwaway databases", async () => {
    const client = new pg.Client({ connectionString: required("CHATAPI_TEST_DATABASE_URL") });
    await explain("PostgreSQL", () => client.connect());
    try {
      const { rows } = await client.query<{ version: number; createdb: boolean; signal: boolean }>(
        `SELECT current_setting('server_version_num')::int AS version, rolcreatedb AS createdb,
                pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS signal
           FROM pg_roles WHERE rolname = current_user`,
      );
      expect(rows[0]?.version).toBeGreaterThanOrEqual(130000); // the guide asks for 13+
      expect(rows[0]?.createdb).toBe(true);
      // Throwaway databases are dropped WITH (FORCE), which must also end an autovacuum worker.
      expect(rows[0]?.signal, "the test role needs pg_signal_backend; run scripts/setup").toBe(true);
    } finally {
      await client.end();
    }
  });

  it("Redis answers PING and delivers pub/sub messages", async () => {
    const url = required("CHATAPI_TEST_REDIS_URL");
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null };
    const publisher = new Redis(url, options);
    const subscriber = new Redis(url, options);
    try {
      await explain("Redis", () => Promise.all([publisher.connect(), subscriber.connect()]));
      expect(await publisher.ping()).toBe("PONG");
      const info = await publisher.info("server");
      expect(Number(/redis_version:(\d+)/.exec(info)?.[1])).toBeGreaterThanOrEqual(6);
      const channel = `services-check-${process.pid}`;
      const received = new Promise<string>((resolve) => subscriber.on("message", (_c, m) => resolve(m)));
      await subscriber.subscribe(channel);
      await publisher.publish(channel, "hello");
      expect(await received).toBe("hello");
    } finally {
      publisher.disconnect();
      subscriber.disconnect();
    }
  });

  it("RabbitMQ accepts the app's RABBITMQ_URL and round-trips a confirmed message", async () => {
    const connection = await explain("RabbitMQ", () => amqp.connect(required("CHATAPI_TEST_RABBITMQ_URL")));
    try {
      const channel = await connection.createConfirmChannel();
      const { queue } = await channel.assertQueue("", { exclusive: true });
      channel.sendToQueue(queue, Buffer.from("ping"));
      await channel.waitForConfirms();
      const message = await channel.get(queue, { noAck: true });
      expect(message && message.content.toString()).toBe("ping");
    } finally {
      await connection.close();
    }
  });

  it("the SMTP sink accepts mail and shows it in its API", async () => {
    const subject = `services check ${Date.now()}`;
    const transport = nodemailer.createTransport({
      host: required("CHATAPI_TEST_SMTP_HOST"),
      port: Number(required("CHATAPI_TEST_SMTP_PORT")),
      secure: false,
    });
    await explain("The SMTP sink (mailpit)", () =>
      transport.sendMail({ from: "check@chatapi.test", to: "ops@chatapi.test", subject, text: "ok" }),
    );
    const api = required("CHATAPI_TEST_MAILPIT_URL");
    const found = await explain("The SMTP sink API (mailpit)", async () => {
      const response = await fetch(
        `${api}/api/v1/search?query=${encodeURIComponent(`subject:"${subject}"`)}`,
      );
      return (await response.json()) as { messages_count: number };
    });
    expect(found.messages_count).toBe(1);
  });

  it("nginx is installed and can check a configuration", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nginx-check-"));
    writeFileSync(
      join(dir, "nginx.conf"),
      `pid ${dir}/nginx.pid; error_log stderr; events {} http { server { listen 127.0.0.1:1; } }`,
    );
    const { stderr } = await explain("nginx", () =>
      run("nginx", ["-t", "-p", dir, "-c", join(dir, "nginx.conf")]),
    );
    expect(stderr).toContain("test is successful");
  });

  it("the Docker engine answers", async () => {
    const { stdout } = await explain("The Docker engine (dockerd)", () =>
      run("docker", ["version", "--format", "{{.Server.Version}}"]),
    );
    expect(stdout.trim()).toMatch(/^\d+\.\d+/);
  });

  it("pg_dump, pg_restore and psql are installed (backups), no older than the server", async () => {
    for (const tool of ["pg_dump", "pg_restore", "psql"]) {
      const { stdout } = await explain(tool, () => run(tool, ["--version"]));
      expect(Number(/\(PostgreSQL\) (\d+)/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(15);
    }
  });

  it("the S3 test server (versitygw) is built", async () => {
    const binary = required("CHATAPI_TEST_VERSITYGW");
    const { stdout } = await explain("versitygw", () => run(binary, ["--version"]));
    expect(stdout).toContain("Version");
  });
});
