// The app image (app/Dockerfile) built for real and run on the Docker engine against the test
// PostgreSQL and Redis (host network): commands, secrets as files, non-root user, healthcheck,
// graceful stop, and nothing in it that should not be there.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../toolbox/processes.js";
import { APP_DIR } from "../../toolbox/processes.js";
import { createTestVhost } from "./support/rabbitmq.js";
import {
  createTestDatabase,
  required,
  TEST_SECRET_KEY,
  uniqueSuffix,
  type TestDatabase,
} from "./support/services.js";
import { call } from "../../toolbox/chat-client.js";

const exec = promisify(execFile);
const docker = async (...args: string[]) =>
  (await exec("docker", args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
const ROOT = join(APP_DIR, "..");
const BASE_IMAGE = process.env.CHATAPI_APP_BASE_IMAGE ?? "chatapi-local/node:24-bookworm";
const BUILD_IMAGE = process.env.CHATAPI_APP_BUILD_IMAGE ?? "chatapi-local/node:24-bookworm-build";
const image = `chatapi-app-test:${uniqueSuffix()}`;
const containers: string[] = [];
let db: TestDatabase;
const secrets = mkdtempSync(join(tmpdir(), "chatapi-image-secrets-"));

function secretFile(name: string, value: string): string {
  const path = join(secrets, name);
  writeFileSync(path, `${value}\n`);
  chmodSync(path, 0o644); // readable by uid 10001 inside the container
  return path;
}

beforeAll(async () => {
  for (const base of [BASE_IMAGE, BUILD_IMAGE]) {
    await docker("image", "inspect", base).catch(() => {
      throw new Error(`base image ${base} is missing: build the offline images first (scripts/images)`);
    });
  }
  await docker(
    "build",
    "-q",
    "-f",
    join(APP_DIR, "Dockerfile"),
    "--build-arg",
    `BASE_IMAGE=${BASE_IMAGE}`,
    "--build-arg",
    `BUILD_IMAGE=${BUILD_IMAGE}`,
    "-t",
    image,
    ROOT,
  );
  db = await createTestDatabase({ migrate: false });
}, 900_000);

afterAll(async () => {
  for (const c of containers) await docker("rm", "-f", c).catch(() => undefined);
  await docker("rmi", "-f", image).catch(() => undefined);
  await db?.drop();
});

const secretMounts = () => {
  const mounts: Record<string, string> = {
    DATABASE_URL: secretFile("database_url", db.url),
    REDIS_URL: secretFile("redis_url", required("CHATAPI_TEST_REDIS_URL")),
    RABBITMQ_URL: secretFile("rabbitmq_url", required("CHATAPI_TEST_RABBITMQ_URL")),
    SECRET_KEY: secretFile("secret_key", TEST_SECRET_KEY),
  };
  return Object.entries(mounts).flatMap(([name, path]) => [
    "-v",
    `${path}:/run/secrets/${name.toLowerCase()}:ro`,
    "-e",
    `${name}_FILE=/run/secrets/${name.toLowerCase()}`,
  ]);
};

describe("app image", () => {
  it("runs as uid 10001 with ENTRYPOINT chatapi, HEALTHCHECK, STOPSIGNAL SIGTERM and no secrets in its config", async () => {
    const config = JSON.parse(await docker("image", "inspect", image, "--format", "{{json .Config}}")) as {
      User: string;
      Entrypoint: string[];
      Cmd: string[];
      Env: string[];
      StopSignal: string;
      Healthcheck: { Test: string[] };
    };
    expect(config.User).toBe("10001:10001");
    expect(config.Entrypoint).toEqual(["chatapi"]);
    expect(config.Cmd).toEqual(["serve"]);
    expect(config.StopSignal).toBe("SIGTERM");
    expect(config.Healthcheck.Test).toEqual(["CMD", "node", "/app/dist/healthcheck.js"]);
    expect(config.Env.map((e) => e.split("=")[0]).sort()).toEqual(["NODE_ENV", "PATH", "PORT"]);
    expect(await docker("run", "--rm", image, "--version")).toBe("1.0.0");
    expect(await docker("run", "--rm", "--entrypoint", "id", image, "-u")).toBe("10001");
  });

  it("holds production dependencies only: no Pulumi, no dev tools, no tests or sources", async () => {
    const pkg = JSON.parse(readFileSync(join(APP_DIR, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    const script = [
      "set -e",
      'for d in /node_modules /app/node_modules; do ls $d; ls -d $d/@*/* 2>/dev/null | sed "s#$d/##"; done',
      "echo ---",
      "find /app -name '*.ts' -not -path '*/node_modules/*' | head -5",
      "ls /app",
    ].join("\n");
    const [modules, rest] = (await docker("run", "--rm", "--entrypoint", "sh", image, "-c", script)).split(
      "---",
    );
    const names = new Set(
      modules!
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean),
    );
    expect([...names].filter((n) => n.startsWith("@pulumi"))).toEqual([]);
    // @types/* stay: node-pg-migrate declares @types/pg (and so @types/node) as dependencies.
    const devOnly = [...Object.keys(pkg.devDependencies), "vitest", "eslint", "prettier", "tsx"].filter(
      (n) => !n.startsWith("@types/"),
    );
    for (const dev of devOnly) expect(names.has(dev), dev).toBe(false);
    for (const prod of ["express", "ws", "pg", "ioredis", "@sentry/node"])
      expect(names.has(prod), prod).toBe(true);
    expect(rest!.trim().split("\n")).toEqual([
      "bin",
      "console",
      "dist",
      "logs",
      "migrations",
      "node_modules",
      "package.json",
    ]);
  });

  it("migrate, create-client (key from a file) and serve work with every secret given as a *_FILE", async () => {
    // Read-only root filesystem, as deployed: only /tmp is writable.
    const network = ["--network", "host", "--read-only", "--tmpfs", "/tmp"];
    const migrated = await docker("run", "--rm", ...network, ...secretMounts(), image, "migrate", "--json");
    expect(JSON.parse(migrated)).toEqual({
      applied: ["1700000000000_initial-schema", "1700000000001_background-jobs"],
    });
    const adminKey = `image-test-admin-key-${uniqueSuffix()}${uniqueSuffix()}`;
    const keyFile = secretFile("admin_api_key", adminKey);
    const bootstrap = [
      "run",
      "--rm",
      ...network,
      ...secretMounts(),
      "-v",
      `${keyFile}:/run/secrets/admin_api_key:ro`,
      image,
      "create-client",
      "--name",
      "Admin",
      "--email",
      "admin@example.com",
      "--admin",
      "--api-key-file",
      "/run/secrets/admin_api_key",
      "--json",
    ];
    const created = JSON.parse(await docker(...bootstrap)) as { id: string; created: boolean };
    expect(created.created).toBe(true);
    expect(JSON.parse(await docker(...bootstrap))).toEqual({ id: created.id, created: false });

    const port = await freePort();
    const name = `chatapi-image-test-${uniqueSuffix()}`;
    containers.push(name);
    await docker(
      "run",
      "-d",
      "--name",
      name,
      ...network,
      ...secretMounts(),
      "--tmpfs",
      "/app/logs:uid=10001",
      "-e",
      "LOG_FILE=/app/logs/chatapi.log",
      "-e",
      `PORT=${port}`,
      "-e",
      `REDIS_KEY_PREFIX=image-${uniqueSuffix()}:`,
      image,
    );
    const base = `http://127.0.0.1:${port}`;
    let health;
    for (let i = 0; i < 150; i++) {
      health = await call(base, "GET", "/health").catch(() => undefined);
      if (health?.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(health?.body).toMatchObject({ status: "healthy", version: "1.0.0" });
    expect((await call(base, "GET", "/health/ready")).status).toBe(200);
    const clients = await call(base, "GET", "/api/v1/clients", { apiKey: adminKey });
    expect(clients.status).toBe(200);
    // The healthcheck command passes inside the container.
    await docker("exec", name, "node", "/app/dist/healthcheck.js");
    // Secrets appear neither in the container's environment nor in its logs.
    const env = await docker("inspect", name, "--format", "{{json .Config.Env}}");
    const logs = (await exec("docker", ["logs", name])).stdout;
    for (const secret of [TEST_SECRET_KEY, adminKey, new URL(db.url).password]) {
      expect(env).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    const history = await docker("history", "--no-trunc", image);
    expect(history).not.toContain(TEST_SECRET_KEY);
    expect(await docker("exec", name, "sh", "-c", "head -c 300 /app/logs/chatapi.log")).toContain(
      '"service":"chatapi"',
    );
    // docker stop sends SIGTERM: a graceful exit with code 0.
    await docker("stop", "-t", "20", name);
    expect(await docker("inspect", name, "--format", "{{.State.ExitCode}}")).toBe("0");
  });

  it("backup and restore run in the image (its own pg_dump/psql) on a read-only root with BACKUP_DIR mounted", async () => {
    const backups = mkdtempSync(join(tmpdir(), "chatapi-image-backups-"));
    chmodSync(backups, 0o777); // writable by uid 10001
    const network = ["--network", "host", "--read-only", "--tmpfs", "/tmp"];
    const versions = await docker(
      "run",
      "--rm",
      "--entrypoint",
      "sh",
      image,
      "-c",
      "pg_dump --version; psql --version",
    );
    expect(versions).toMatch(/pg_dump \(PostgreSQL\) 1[5-9]/);
    const out = await docker(
      "run",
      "--rm",
      ...network,
      ...secretMounts(),
      "-v",
      `${backups}:/backups`,
      image,
      "backup",
    );
    expect(out).toContain('"msg":"backup complete"');
    const file = readdirSync(backups).find((n) => n.endsWith(".sql.gz"))!;
    expect(readdirSync(backups)).toContain(`${file}.sha256`);
    const target = await createTestDatabase({ migrate: false });
    try {
      const restored = await docker(
        "run",
        "--rm",
        ...network,
        "-e",
        `DATABASE_URL_FILE=/run/secrets/database_url`,
        "-v",
        `${secretFile("target_database_url", target.url)}:/run/secrets/database_url:ro`,
        "-v",
        `${backups}:/backups:ro`,
        image,
        "restore",
        `/backups/${file}`,
      );
      expect(restored).toContain('"msg":"restore complete"');
      expect(restored).not.toContain(new URL(target.url).password);
    } finally {
      await target.drop();
    }
  });

  it("the worker runs in the image: health and metrics on METRICS_PORT, the healthcheck passes, SIGTERM exits 0", async () => {
    const vhost = await createTestVhost();
    const port = await freePort();
    const name = `chatapi-image-worker-${uniqueSuffix()}`;
    containers.push(name);
    try {
      await docker(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp",
        ...secretMounts().map((arg) =>
          arg.endsWith(":/run/secrets/rabbitmq_url:ro")
            ? `${secretFile("worker_rabbitmq_url", vhost.url)}:/run/secrets/rabbitmq_url:ro`
            : arg,
        ),
        "-e",
        `METRICS_PORT=${port}`,
        image,
        "worker",
      );
      let ready;
      for (let i = 0; i < 150; i++) {
        ready = await call(`http://127.0.0.1:${port}`, "GET", "/health/ready").catch(() => undefined);
        if (ready?.status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(ready?.status).toBe(200);
      await docker("exec", name, "node", "/app/dist/healthcheck.js");
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain("chatapi_jobs_in_flight");
      await docker("stop", "-t", "30", name);
      expect(await docker("inspect", name, "--format", "{{.State.ExitCode}}")).toBe("0");
    } finally {
      await vhost.drop();
    }
  });
});
