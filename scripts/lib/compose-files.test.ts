// Writing a stack for docker-compose: a second run keeps every generated value and the CA,
// files get their container user's uid and mode, and missing config secrets are named with
// where to put them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { UNREADABLE_SECRET } from "../../components/config/issues";
import { repoRoot } from "../../test/support/paths";
import { makeCertificate } from "../../test/support/tls-fixture";
import { contextFiles } from "./app-image";
import { generatePassword, writeComposeStack } from "./compose-files";
import { applyOverrides, loadStackPlan } from "./stack-plan";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-compose-files-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("writeComposeStack", () => {
  it("writes the compose file, secrets (0600) and per-container files (owner, 0400/0444); a second run changes nothing", async () => {
    const dir = tempDir();
    const { plan, config } = loadStackPlan({ root: repoRoot, stack: "local" });
    const first = await writeComposeStack(plan, config, dir);
    const read = (p: string) => readFileSync(join(dir, p), "utf8");
    const mode = (p: string) => (statSync(join(dir, p)).mode & 0o777).toString(8);
    expect(mode("secrets/postgres_password")).toBe("600");
    expect(mode("secrets")).toBe("700");
    const pg = statSync(join(dir, "files/postgres/run/secrets/postgres_password"));
    expect((pg.mode & 0o777).toString(8)).toBe("400");
    if (process.getuid?.() === 0) expect([pg.uid, pg.gid]).toEqual([999, 999]);
    expect(mode("files/nginx/etc/nginx/chatapi/nginx.conf")).toBe("444");
    expect(read("files/api/run/secrets/database_url")).toBe(
      `postgresql://chatapi:${read("secrets/postgres_password")}@postgres:5432/chatapi`,
    );
    const compose = parse(read("docker-compose.yml")) as { services: Record<string, { command: string[] }> };
    const state = JSON.parse(read("state.json")) as { admin_client_id: string };
    expect(compose.services["bootstrap-admin"]!.command).toContain(state.admin_client_id);
    expect(read("ca.pem")).toContain("BEGIN CERTIFICATE");
    // The compose file names files; it holds none of their values.
    for (const name of ["postgres_password", "secret_key", "admin_api_key", "redis_password"])
      expect(read("docker-compose.yml")).not.toContain(read(`secrets/${name}`));

    const before = Object.fromEntries(
      [
        "secrets/postgres_password",
        "secrets/admin_api_key",
        "secrets/tls_certificate",
        "ca.pem",
        "state.json",
        "docker-compose.yml",
      ].map((p) => [p, read(p)]),
    );
    const second = await writeComposeStack(plan, config, dir);
    for (const [p, content] of Object.entries(before)) expect(read(p), p).toBe(content);
    expect(second.rendered.compose).toEqual(first.rendered.compose);
  });

  it("names the config secrets it cannot read (encrypted in the stack file), and where to put them", async () => {
    const cert = makeCertificate("chat.example.com", 90);
    const { plan, config } = loadStackPlan({
      root: repoRoot,
      stack: "dockerhost",
      secrets: { tlsCertificate: cert.certificate, tlsPrivateKey: cert.privateKey },
    });
    // As a `secure:` value of Pulumi.dockerhost.yaml reads without the passphrase.
    config.secrets.tlsPrivateKey = UNREADABLE_SECRET;
    const dir = tempDir();
    await expect(writeComposeStack(plan, config, dir)).rejects.toThrow(
      `the stack needs config secrets that were not given: chatapi:tlsPrivateKey.\nPut each value in ${join(dir, "secrets", "config")}/<key>`,
    );
  });

  it("re-issues the server certificate, not the CA, when the stack's names change", async () => {
    const dir = tempDir();
    const first = loadStackPlan({ root: repoRoot, stack: "local" });
    await writeComposeStack(first.plan, first.config, dir);
    const ca = readFileSync(join(dir, "ca.pem"), "utf8");
    const cert = readFileSync(join(dir, "secrets", "tls_certificate"), "utf8");
    const renamed = loadStackPlan({ root: repoRoot, stack: "local", set: ["domain=chat.localtest.me"] });
    await writeComposeStack(renamed.plan, renamed.config, dir);
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).toBe(ca);
    expect(readFileSync(join(dir, "secrets", "tls_certificate"), "utf8")).not.toBe(cert);
  });
});

describe("stack plan helpers", () => {
  it("applies --set overrides into the chatapi: namespace, nested keys as JSON objects", () => {
    const out = applyOverrides({ "chatapi:nginx": JSON.stringify({ version: "1.22" }) }, [
      "nginx.httpsPort=9443",
      "api.replicas=3",
      "chatapi:domain=chat.local",
      'app.corsOrigins=["https://a.example"]',
    ]);
    expect(JSON.parse(out["chatapi:nginx"]!)).toEqual({ version: "1.22", httpsPort: 9443 });
    expect(JSON.parse(out["chatapi:api"]!)).toEqual({ replicas: 3 });
    expect(out["chatapi:domain"]).toBe("chat.local");
    expect(JSON.parse(out["chatapi:app"]!)).toEqual({ corsOrigins: ["https://a.example"] });
    expect(() => applyOverrides({}, ["nginx.httpsPort"])).toThrow("expected key.path=value");
    // Validated like any config: a bad value is named.
    expect(() => loadStackPlan({ root: repoRoot, stack: "local", set: ["api.replicas=0"] })).toThrow(
      /chatapi:api\.replicas/,
    );
  });

  it("generates letters-and-digits passwords with each kind present", () => {
    for (let i = 0; i < 20; i++) {
      const value = generatePassword(32);
      expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(value).toMatch(/[A-Z].*[A-Z]/);
      expect(value).toMatch(/[0-9].*[0-9]/);
    }
  });
});

describe("app image build context", () => {
  it("is exactly what .dockerignore lets through: no secrets, tests, node_modules or dist", async () => {
    const files = contextFiles(repoRoot);
    expect(files).toContain("package-lock.json");
    expect(files).toContain("app/src/cli.ts");
    expect(
      files.some((f) => f.includes("node_modules") || f.includes("/dist/") || f.endsWith(".test.ts")),
    ).toBe(false);
    expect(
      files.some((f) => f.startsWith("components/") || f.startsWith("stacks/") || f.startsWith("Pulumi.")),
    ).toBe(false);
    // A file the rules exclude does not change the hash input: a stray .env stays out.
    const dir = tempDir();
    writeFileSync(join(dir, ".dockerignore"), "**\n!app/\napp/**/*.test.ts\n");
    mkdirSync(join(dir, "app", "src"), { recursive: true });
    writeFileSync(join(dir, "app", "src", "a.ts"), "");
    writeFileSync(join(dir, "app", "src", "a.test.ts"), "");
    writeFileSync(join(dir, ".env"), "SECRET=1");
    expect(contextFiles(dir)).toEqual(["app/src/a.ts"]);
  });
});
