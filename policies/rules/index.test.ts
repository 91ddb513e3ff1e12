// The rule set as a whole: complete metadata, valid config schemas, a spec beside every rule,
// and no secret value in any message even when every rule fires.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { describe, expect, it } from "vitest";
import { evaluate } from "../offline/evaluate";
import { changed } from "../test/check";
import { container, filesContainer } from "../test/docker-fixtures";
import { kubernetesSubjects, subjectOf } from "../test/kubernetes-fixtures";
import { PLANTED_SECRETS as S, plantedValues } from "../test/secrets";
import { rules } from ".";

describe("the rule set", () => {
  it("has unique kebab-case names and complete metadata", () => {
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.description.length, rule.name).toBeGreaterThan(30);
      expect(rule.remediation.length, rule.name).toBeGreaterThan(20);
      expect(["mandatory", "advisory"]).toContain(rule.enforcementLevel);
      expect(["low", "medium", "high", "critical"]).toContain(rule.severity);
      expect(rule.targets.length, rule.name).toBeGreaterThan(0);
    }
  });

  it("gives every rule file a spec and lists every rule file", () => {
    const files = readdirSync(__dirname).filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "index.ts",
    );
    expect(files.map((f) => f.replace(/\.ts$/, "")).sort()).toEqual(rules.map((r) => r.name).sort());
    for (const file of files)
      expect(existsSync(join(__dirname, file.replace(/\.ts$/, ".test.ts"))), file).toBe(true);
  });

  it("has config schemas whose defaults validate and match the defaults the rule uses", () => {
    const ajv = new Ajv({ strict: false });
    for (const rule of rules.filter((r) => r.config)) {
      const schema = rule.config!.schema as Record<string, { default: unknown }>;
      expect(Object.keys(schema).sort(), rule.name).toEqual(Object.keys(rule.config!.defaults).sort());
      for (const [key, property] of Object.entries(schema)) {
        expect(property.default, `${rule.name}.${key}`).toEqual(
          (rule.config!.defaults as Record<string, unknown>)[key],
        );
        expect(ajv.validate(property, property.default), `${rule.name}.${key}`).toBe(true);
      }
    }
  });

  it("covers the rules the issue asks for", () => {
    const names = rules.map((r) => r.name);
    for (const name of [
      "no-privileged-containers",
      "no-host-namespaces",
      "no-host-ports",
      "no-host-paths",
      "no-runtime-sockets",
      "no-privilege-escalation",
      "run-as-non-root",
      "drop-all-capabilities",
      "seccomp-runtime-default",
      "read-only-root-filesystem",
      "read-only-root-filesystem-datastores",
      "resource-requests-limits",
      "docker-pids-limit",
      "image-tag-pinned",
      "allowed-registries",
      "health-probes",
      "no-secret-literals",
      "secrets-as-files",
      "network-policy-default-deny",
      "datastore-network-isolation",
      "pdb-sane",
      "hpa-consistent",
      "no-nodeport-external-ips",
      "datastore-ports-not-exposed",
      "lb-tls",
      "websocket-sticky-timeouts",
      "backup-hygiene",
      "datastore-persistent-storage",
      "docker-restart-policy",
      "docker-engine-tls",
    ])
      expect(names).toContain(name);
  });

  it("never prints a secret value, even when every rule fires on resources full of them", () => {
    const leakyEnv = [
      `SECRET_KEY=${S.secretKey}`,
      `DATABASE_URL=postgresql://chatapi:${S.password}@postgres/chatapi`,
      `AWS_KEY=${S.awsKey}`,
    ];
    const k8s = kubernetesSubjects().map((s) =>
      s.props.kind === "Deployment"
        ? changed(s, (p) => {
            const c = p.spec.template.spec.containers[0];
            c.env = [
              ...(c.env ?? []),
              { name: "API_KEY", value: S.apiKey },
              { name: "TLS_KEY", value: S.pem },
            ];
            c.securityContext = { privileged: true };
            c.image = "registry.example.com/chatapi:latest";
          })
        : s.props.kind === "ConfigMap"
          ? changed(s, (p) => {
              p.data.PASSWORD = S.password;
              p.data["redis.conf"] = `requirepass ${S.password}`;
            })
          : s,
    );
    const docker = [
      container("api", { envs: leakyEnv, privileged: true, command: ["serve", `--password=${S.password}`] }),
      container("postgres", {
        envs: [`POSTGRES_PASSWORD=${S.password}`],
        ports: [{ internal: 5432, external: 5432 }],
      }),
      filesContainer("nginx", [
        {
          file: "/etc/nginx/nginx.conf",
          content: `http { server { listen 80; location / { proxy_pass http://x; } } }`,
        },
      ]),
      subjectOf({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "leak" },
        data: { "tls.key": S.pem },
      }),
    ];
    const evaluation = evaluate([...k8s, ...docker]);
    expect(evaluation.errors).toEqual([]);
    expect(new Set(evaluation.violations.map((v) => v.rule.name)).size).toBeGreaterThan(10);
    const text = JSON.stringify(evaluation.violations.map((v) => [v.subject?.name, v.message]));
    for (const secret of plantedValues()) expect(text).not.toContain(secret);
  });
});
