// The rendered objects (scripts/render) of the prod stack and its variants validate against
// the Kubernetes v1.33 OpenAPI schemas with unknown fields rejected; they are the objects the
// Pulumi program creates; and create-secrets.sh builds the Secrets without writing a value
// anywhere but its private temp folder.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadStackConfig } from "../../config/load";
import { readAppVersion, readStackFile } from "../../config/stack-file";
import { runProgram } from "../../../stacks/program";
import { repoRoot } from "../../../test/support/paths";
import { type KubernetesValidator, kubernetesValidator } from "../../../test/support/kubernetes-schemas";
import { installMocks, plain, valueOf } from "../../../test/support/pulumi-mocks";
import { makeCertificate } from "../../../test/support/tls-fixture";
import { buildPlan } from "../../plan/build-plan";
import type { DeploymentPlan } from "../../plan/types";
import { renderManifests } from "./render-manifests";
import { secretsScript } from "./secrets-script";

const mocks = installMocks();
const appVersion = readAppVersion(repoRoot);

function planFor(
  stack: string,
  changes: Record<string, string> = {},
  secrets: Record<string, string> = {},
): DeploymentPlan {
  const file = readStackFile(repoRoot, "prod", secrets);
  const config = loadStackConfig({
    stack,
    config: { ...file.config, ...changes },
    secretKeys: file.secretKeys,
    appVersion,
  });
  return buildPlan({ config, appVersion });
}

const variants = (): Record<string, DeploymentPlan> => {
  const tls = makeCertificate("chat.example.com");
  return {
    prod: planFor("prod"),
    gateway: planFor("gw", {
      "chatapi:tls": JSON.stringify({ mode: "acme", acmeEmail: "ops@example.com" }),
      "chatapi:kubernetes": JSON.stringify({
        namespace: "chatapi",
        gatewayClassName: "eg",
        serviceType: "NodePort",
      }),
    }),
    "offline images (nginx 1.22 with the upstream watcher)": planFor("offline", {
      "chatapi:images": JSON.stringify({ preset: "offline" }),
      "chatapi:kubernetes": JSON.stringify({ namespace: "chatapi", imagePullPolicy: "Never" }),
    }),
    "provided TLS, external PostgreSQL, S3 backups, log files": planFor(
      "ext",
      {
        "chatapi:tls": JSON.stringify({ mode: "provided" }),
        "chatapi:postgres": JSON.stringify({ mode: "external" }),
        "chatapi:backup": JSON.stringify({ s3: { bucket: "chat-backups", region: "eu-west-1" } }),
        "chatapi:app": JSON.stringify({ logFile: true }),
        "chatapi:api": JSON.stringify({ autoscaling: { enabled: false }, replicas: 4 }),
      },
      {
        "chatapi:tlsCertificate": tls.certificate,
        "chatapi:tlsPrivateKey": tls.privateKey,
        "chatapi:databaseUrl": "postgresql://app:pw@db.example.com:5432/chatapi",
        "chatapi:backupS3AccessKeyId": "AKIAEXAMPLE",
        "chatapi:backupS3SecretAccessKey": "secretsecret",
      },
    ),
  };
};

describe("rendered Kubernetes objects", () => {
  let validator: KubernetesValidator;
  let plans: Record<string, DeploymentPlan>;
  beforeAll(async () => {
    validator = await kubernetesValidator();
    plans = variants();
  });

  it("the validator is strict: an unknown field, a wrong type and a missing required field are rejected", () => {
    const deployment = renderManifests(plans.prod!)
      .files.flatMap((f) => f.objects)
      .find((o) => o.kind === "Deployment")!;
    expect(validator.validate(deployment)).toEqual([]);
    const bad = structuredClone(deployment) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    bad.spec.template.spec.containers[0].securityContext.runAsNonroot = true;
    expect(validator.validate(bad).join("\n")).toContain("runAsNonroot");
    const wrongType = structuredClone(deployment) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    wrongType.spec.template.spec.terminationGracePeriodSeconds = "55";
    expect(validator.validate(wrongType)).not.toEqual([]);
    const missing = structuredClone(deployment) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    delete missing.spec.selector;
    expect(validator.validate(missing).join("\n")).toContain("selector");
  });

  it.each(["prod", "gateway", "provided TLS, external PostgreSQL, S3 backups, log files"])(
    "every object of %s validates against its kind's schema",
    (name) => {
      const objects = renderManifests(plans[name]!).files.flatMap((f) => f.objects);
      expect(objects.length).toBeGreaterThan(20);
      for (const object of objects) {
        expect(validator.validate(object), `${object.kind}/${object.metadata.name}`).toEqual([]);
      }
      const strict = objects.filter((o) => validator.strict(o)).length;
      expect(strict).toBeGreaterThanOrEqual(objects.length - 5); // only cert-manager / Gateway API objects are not strict
    },
  );

  it("renders the objects the Pulumi program creates (same kinds and names, same Deployment spec)", async () => {
    const source = readStackFile(repoRoot, "prod");
    const result = runProgram({
      stack: "prod",
      config: source.config,
      secretKeys: source.secretKeys,
      projectDir: repoRoot,
    });
    const k = result.kubernetes!;
    await valueOf(
      pulumi.all([result.outputs.adminClientId, ...Object.values(k.components).map((c) => c!.urn)]),
    );
    await new Promise((r) => setTimeout(r, 50));
    const captured = mocks.captured
      .filter((r) => r.type.startsWith("kubernetes:") && r.name.startsWith("chatapi-prod"))
      .map((r) => plain(r.inputs) as { kind: string; metadata: { name?: string } })
      .filter((o) => o.metadata.name !== undefined && o.kind !== "Secret") // auto-named objects and Secrets are not rendered
      .map((o) => `${o.kind}/${o.metadata.name}`);
    const rendered = renderManifests(plans.prod!)
      .files.flatMap((f) => f.objects)
      .filter((o) => o.kind !== "ConfigMap")
      .map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(rendered)).toEqual(new Set(captured));
    expect(rendered.length).toBe(captured.length);
    const pulumiApi = mocks.captured.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "chatapi-prod-api",
    )!;
    const renderedApi = renderManifests(plans.prod!)
      .files.flatMap((f) => f.objects)
      .find((o) => o.kind === "Deployment" && o.metadata.name === "chatapi-prod-api")!;
    const normalise = (o: unknown) =>
      JSON.parse(JSON.stringify(o).replace(/chatapi-prod-secrets(-[0-9a-f]{8})?/g, "APP_SECRET"));
    expect(normalise(renderedApi)).toEqual(normalise(plain(pulumiApi.inputs)));
  });

  it("scripts/render writes YAML files and create-secrets.sh, with no secret value in them", () => {
    const out = mkdtempSync(join(tmpdir(), "chatapi-render-"));
    try {
      execFileSync(join(repoRoot, "scripts", "render"), ["--stack", "prod", "--out", out], {
        encoding: "utf8",
      });
      const dir = join(out, "prod", "kubernetes");
      const files = readdirSync(dir).sort();
      expect(files).toEqual([
        "00-namespace.yaml",
        "10-base.yaml",
        "20-data-stores.yaml",
        "30-migrate.yaml",
        "31-bootstrap-admin.yaml",
        "40-apps.yaml",
        "create-secrets.sh",
      ]);
      const docs = files
        .filter((f) => f.endsWith(".yaml"))
        .flatMap((f) =>
          parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as { kind: string }),
        );
      expect(docs.map((d) => d.kind)).not.toContain("Secret");
      expect(docs.length).toBe(renderManifests(plans.prod!).files.reduce((n, f) => n + f.objects.length, 0));
      for (const doc of docs) expect(validator.validate(doc)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("create-secrets.sh assembles the Secrets from env or generated values, and leaves an existing Secret alone", () => {
    const plan = plans["provided TLS, external PostgreSQL, S3 backups, log files"]!;
    const dir = mkdtempSync(join(tmpdir(), "chatapi-secrets-"));
    try {
      const script = join(dir, "create-secrets.sh");
      writeFileSync(script, secretsScript(plan, renderManifests(plan).refs));
      // A kubectl stand-in: "get" fails (no Secret yet) unless EXISTS is set; "create" copies
      // the --from-file / --cert / --key files into $CAPTURE.
      const kubectl = join(dir, "kubectl");
      writeFileSync(
        kubectl,
        [
          "#!/usr/bin/env bash",
          'echo "$*" >> "$CAPTURE/calls"',
          'case " $* " in *" get "*) [ -n "${EXISTS:-}" ]; exit ;; esac',
          'for arg in "$@"; do case "$arg" in --from-file=*) kv=${arg#--from-file=}; cp "${kv#*=}" "$CAPTURE/${kv%%=*}" ;; --cert=*) cp "${arg#--cert=}" "$CAPTURE/tls.crt" ;; --key=*) cp "${arg#--key=}" "$CAPTURE/tls.key" ;; esac; done',
        ].join("\n"),
      );
      chmodSync(kubectl, 0o755);
      const tls = makeCertificate("chat.example.com");
      writeFileSync(join(dir, "cert.pem"), tls.certificate);
      writeFileSync(join(dir, "key.pem"), tls.privateKey);
      const capture = join(dir, "capture");
      execFileSync("mkdir", [capture]);
      const env = {
        ...process.env,
        KUBECTL: kubectl,
        CAPTURE: capture,
        CHATAPI_SECRET_DATABASE_URL: "postgresql://app:pw@db.example.com:5432/chatapi",
        CHATAPI_SECRET_BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
        CHATAPI_SECRET_BACKUP_S3_SECRET_ACCESS_KEY: "secretsecret",
        CHATAPI_SECRET_REDIS_PASSWORD: "RedisPassword0123456789ab",
        CHATAPI_TLS_CERT_FILE: join(dir, "cert.pem"),
        CHATAPI_TLS_KEY_FILE: join(dir, "key.pem"),
      };
      execFileSync("bash", [script], { env, encoding: "utf8" });
      const read = (name: string) => readFileSync(join(capture, name), "utf8");
      expect(read("database_url")).toBe(env.CHATAPI_SECRET_DATABASE_URL);
      expect(read("redis_url")).toBe("redis://:RedisPassword0123456789ab@redis:6379/0");
      expect(read("redis_conf")).toContain("requirepass RedisPassword0123456789ab\n");
      expect(read("rabbitmq_password")).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(read("rabbitmq_url")).toBe(`amqp://chatapi:${read("rabbitmq_password")}@rabbitmq:5672/chatapi`);
      expect(read("secret_key")).toMatch(/^[A-Za-z0-9]{64}$/);
      expect(read("tls.crt")).toBe(tls.certificate);
      expect(readdirSync(capture)).not.toContain("postgres_password"); // external PostgreSQL
      const calls = read("calls");
      expect(calls).toContain("-n chatapi create secret generic chatapi-ext-secrets");
      expect(calls).toContain("-n chatapi create secret tls chatapi-ext-tls");
      // Run again with the Secrets present: nothing is created.
      rmSync(join(capture, "calls"));
      execFileSync("bash", [script], { env: { ...env, EXISTS: "1" }, encoding: "utf8" });
      expect(read("calls")).not.toContain("create");
      // A required value missing: a clear message naming the variable.
      const { CHATAPI_SECRET_DATABASE_URL: _unset, ...without } = env;
      let message = "";
      try {
        execFileSync("bash", [script], { env: without, encoding: "utf8", stdio: "pipe" });
      } catch (error) {
        message = String((error as { stderr: string }).stderr);
      }
      expect(message).toContain(
        "create-secrets: set CHATAPI_SECRET_DATABASE_URL (URL of the managed PostgreSQL)",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
