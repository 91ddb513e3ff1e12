// charts/chatapi/scripts/create-secrets.sh creates the Secret the chart reads with the keys and
// contents the Pulumi target's secret plan defines (URLs, redis.conf, the RabbitMQ conf.d file),
// never writes a value outside its private temporary folder, and leaves an existing Secret alone.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadHelmStack } from "../../test/support/helm-stacks";
import type { SecretName, SecretPlan } from "../plan/types";
import { CHART_DIR } from "./chart-files";

const SCRIPT = join(CHART_DIR, "scripts", "create-secrets.sh");
// Made per run: no credential-looking literal in git.
const fixture = (prefix: string) => `${prefix}${randomBytes(12).toString("hex")}`;
const passwords = {
  postgres_password: fixture("pg"),
  redis_password: fixture("redis"),
  rabbitmq_password: fixture("rabbit"),
  secret_key: "k".repeat(64),
  admin_api_key: "AdminApiKey0123456789abcdefghijklmnop",
};

/** A secret's value from the plan's recipe, with the given passwords. */
function resolve(secrets: SecretPlan[], name: SecretName): string {
  const secret = secrets.find((s) => s.name === name);
  if (!secret) throw new Error(`the plan has no secret ${name}`);
  if (secret.source.kind === "template")
    return secret.source.parts.map((p) => (typeof p === "string" ? p : resolve(secrets, p.secret))).join("");
  const value = (passwords as Record<string, string>)[name];
  if (value === undefined) throw new Error(`no test value for ${name}`);
  return value;
}

let dir: string;
let capture: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "chatapi-chart-secrets-"));
  capture = join(dir, "capture");
  mkdirSync(capture);
  // A kubectl stand-in: "get" fails (no Secret yet) unless EXISTS is set; "create" copies the
  // --from-file files into $CAPTURE.
  const kubectl = join(dir, "kubectl");
  writeFileSync(
    kubectl,
    [
      "#!/usr/bin/env bash",
      'echo "$*" >> "$CAPTURE/calls"',
      'case " $* " in *" get "*) [ -n "${EXISTS:-}" ]; exit ;; esac',
      'for arg in "$@"; do case "$arg" in --from-file=*) kv=${arg#--from-file=}; cp "${kv#*=}" "$CAPTURE/${kv%%=*}" ;; esac; done',
    ].join("\n"),
  );
  chmodSync(kubectl, 0o755);
  env = {
    ...process.env,
    KUBECTL: kubectl,
    CAPTURE: capture,
    TMPDIR: join(dir, "tmp"),
    CHATAPI_SECRET_POSTGRES_PASSWORD: passwords.postgres_password,
    CHATAPI_SECRET_REDIS_PASSWORD: passwords.redis_password,
    CHATAPI_SECRET_RABBITMQ_PASSWORD: passwords.rabbitmq_password,
    CHATAPI_SECRET_SECRET_KEY: passwords.secret_key,
    CHATAPI_SECRET_ADMIN_API_KEY: passwords.admin_api_key,
  };
  mkdirSync(env.TMPDIR!);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  execFileSync("bash", [SCRIPT, ...args], { env: { ...env, ...extra }, encoding: "utf8", stdio: "pipe" });
const captured = () =>
  Object.fromEntries(
    readdirSync(capture)
      .filter((f) => f !== "calls")
      .map((f) => [f, readFileSync(join(capture, f), "utf8")]),
  );

describe("create-secrets.sh", () => {
  it("writes exactly the keys and contents of the Pulumi target's app Secret (prod, same hosts)", () => {
    const { plan } = loadHelmStack({ file: "prod" });
    const out = run([
      "-n",
      "chatapi",
      "--name",
      "chatapi-prod-secrets",
      "--postgres-host",
      "postgres",
      "--redis-host",
      "redis",
      "--rabbitmq-host",
      "rabbitmq",
      "prod",
    ]);
    expect(out).toContain("Secret chatapi/chatapi-prod-secrets created");
    const expected = Object.fromEntries(
      plan.secrets.filter((s) => s.source.kind !== "tls").map((s) => [s.name, resolve(plan.secrets, s.name)]),
    );
    expect(captured()).toEqual(expected);
    expect(readFileSync(join(capture, "calls"), "utf8")).toContain(
      "-n chatapi create secret generic chatapi-prod-secrets",
    );
    expect(readdirSync(env.TMPDIR!)).toEqual([]); // its temporary folder is gone
  });

  it("follows the chart's default names, an external store's URL, and a changed Redis memory limit", () => {
    rmSync(capture, { recursive: true });
    mkdirSync(capture);
    run(["--redis-memory-limit", "2Gi", "staging"], {
      CHATAPI_SECRET_DATABASE_URL: "postgresql://app:pw@db.example.com:5432/chat",
    });
    const files = captured();
    expect(Object.keys(files).sort()).toEqual([
      "admin_api_key",
      "database_url",
      "rabbitmq_conf",
      "rabbitmq_password",
      "rabbitmq_url",
      "redis_conf",
      "redis_password",
      "redis_url",
      "secret_key",
    ]);
    expect(files.database_url).toBe("postgresql://app:pw@db.example.com:5432/chat");
    expect(files.redis_url).toBe(`redis://:${passwords.redis_password}@staging-chatapi-redis:6379/0`);
    expect(files.rabbitmq_url).toBe(
      `amqp://chatapi:${passwords.rabbitmq_password}@staging-chatapi-rabbitmq:5672/chatapi`,
    );
    expect(files.redis_conf).toContain(`maxmemory ${Math.floor(2 * 1024 ** 3 * 0.8)}\n`);
    expect(readFileSync(join(capture, "calls"), "utf8")).toContain(
      "-n default create secret generic staging-chatapi-secrets",
    );
  });

  it("leaves an existing Secret alone, and refuses a password that cannot go into a URL without printing it", () => {
    rmSync(join(capture, "calls"));
    expect(run(["chatapi-prod"], { EXISTS: "1" })).toContain(
      "Secret default/chatapi-prod-secrets exists: left as it is",
    );
    expect(readFileSync(join(capture, "calls"), "utf8")).not.toContain("create");
    let stderr = "";
    try {
      run(["prod"], { CHATAPI_SECRET_REDIS_PASSWORD: "has/slash@and:colon-1234" });
    } catch (error) {
      stderr = String((error as { stderr: string }).stderr);
    }
    expect(stderr).toContain(
      "CHATAPI_SECRET_REDIS_PASSWORD: use 16 to 128 characters from A-Z a-z 0-9 . _ ~ - (it goes into a URL)",
    );
    expect(stderr).not.toContain("has/slash");
  });
});
