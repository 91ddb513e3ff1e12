// Bad values are refused by values.schema.json before anything is rendered, by `helm lint` and
// by `helm template`/`install` alike, with a message that names the value; a password pasted
// where a Secret's name belongs is refused without being repeated.
import { describe, expect, it } from "vitest";
import { CHART, helmWithValues } from "../../test/support/helm";

const PASSWORD = "Sup3r-Secret!pass";

const cases: [string, Record<string, unknown>, string][] = [
  ["API replicas 0", { api: { replicaCount: 0 } }, "- at '/api/replicaCount': minimum: got 0, want 1"],
  [
    "worker replicas 0",
    { worker: { replicaCount: 0 } },
    "- at '/worker/replicaCount': minimum: got 0, want 1",
  ],
  [
    "HPA maxReplicas below minReplicas",
    { api: { autoscaling: { minReplicas: 5, maxReplicas: 4 } } },
    "- at '/api/autoscaling/maxReplicas': minimum: got 4, want 5",
  ],
  ["an unknown top-level key", { replicas: 3 }, "- at '': additional properties 'replicas' not allowed"],
  [
    "a test CA that is not a PEM certificate",
    { tests: { caCertificate: "/etc/ssl/ca.pem" } },
    "- at '/tests/caCertificate': '/etc/ssl/ca.pem' does not match pattern '^$|^-----BEGIN CERTIFICATE-----'",
  ],
  [
    "a misspelt key",
    { api: { autoscalling: { enabled: false } } },
    "- at '/api': additional properties 'autoscalling' not allowed",
  ],
  [
    "a literal password where an existingSecret is expected",
    { postgresql: { auth: { existingSecret: PASSWORD } } },
    "- at '/postgresql/auth/existingSecret': value must be 'the NAME of an existing Secret (a lower-case DNS name), never a secret value'",
  ],
  [
    "a password value the chart has no key for",
    { redis: { auth: { password: PASSWORD } } },
    "- at '/redis/auth': additional properties 'password' not allowed",
  ],
  [
    "an image tag latest",
    { nginx: { image: { tag: "latest" } } },
    "- at '/nginx/image/tag': value must be 'a pinned version tag (latest changes under a running release)'",
  ],
  [
    "a CPU limit that is no quantity",
    { api: { resources: { limits: { cpu: "two" } } } },
    "- at '/api/resources/limits/cpu': 'two' does not match pattern",
  ],
  [
    "requests without memory",
    { worker: { resources: { requests: { cpu: "1", memory: null } } } },
    "- at '/worker/resources/requests': missing property 'memory'",
  ],
  [
    "a bad backup schedule",
    { backup: { schedule: "daily at 2" } },
    "- at '/backup/schedule': 'daily at 2' does not match pattern",
  ],
  [
    "an unknown Service type",
    { nginx: { service: { type: "Ingress" } } },
    "- at '/nginx/service/type': value must be one of 'LoadBalancer', 'ClusterIP', 'NodePort'",
  ],
  [
    "a PDB that allows no eviction",
    { api: { pdb: { maxUnavailable: 0 } } },
    "- at '/api/pdb/maxUnavailable': minimum: got 0, want 1",
  ],
  [
    "an unknown field in a Kubernetes securityContext",
    { api: { containerSecurityContext: { runAsNonroot: true } } },
    "- at '/api/containerSecurityContext': additional properties 'runAsNonroot' not allowed",
  ],
  [
    "tolerations that are not a list",
    { worker: { tolerations: { key: "x" } } },
    "- at '/worker/tolerations': got object, want array",
  ],
  [
    "a container running as root",
    { worker: { containerSecurityContext: { runAsUser: 0 } } },
    "- at '/worker/containerSecurityContext/runAsUser': minimum: got 0, want 1",
  ],
  [
    "an SMTP password without an SMTP server",
    { smtp: { existingSecret: "chatapi-smtp" } },
    "- at '/smtp/host': value must be 'an SMTP server, required when smtp.existingSecret is set'",
  ],
  [
    "S3 credentials without a bucket",
    { backup: { s3: { existingSecret: "chatapi-s3" } } },
    "- at '/backup/s3/bucket': value must be 'a bucket, required when backup.s3.existingSecret is set'",
  ],
];

describe("bad values", () => {
  it.each(cases)("refuses %s", async (_name, values, message) => {
    for (const command of [
      ["lint", "--strict", CHART],
      ["template", "prod", CHART],
    ]) {
      const result = await helmWithValues(command, values);
      const output = result.stdout + result.stderr;
      expect(result.code, `helm ${command[0]}:\n${output}`).not.toBe(0);
      expect(output, `helm ${command[0]}`).toContain(message);
      expect(output).not.toContain(PASSWORD);
    }
  });

  // What JSON Schema cannot compare (two ports) fails the render in templates/validate.yaml;
  // helm lint only reports a template's fail as [INFO], so this is for template/install.
  it("refuses HTTP and HTTPS on one port at template/install time", async () => {
    const result = await helmWithValues(["template", "prod", CHART], {
      nginx: { service: { httpPort: 443 } },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      "nginx.service.httpsPort: equals nginx.service.httpPort (443); give HTTP and HTTPS two different ports",
    );
  });

  it("accepts the same keys with good values (the cases fail for their value, not their shape)", async () => {
    const good = {
      api: { replicaCount: 2, autoscaling: { minReplicas: 4, maxReplicas: 4 }, pdb: { maxUnavailable: 2 } },
      postgresql: { auth: { existingSecret: "chatapi-postgres" } },
      nginx: { image: { tag: "1.27" }, service: { type: "ClusterIP" } },
      backup: { schedule: "@daily" },
      worker: { tolerations: [{ key: "x", operator: "Exists" }] },
    };
    const result = await helmWithValues(["template", "prod", CHART], good);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
