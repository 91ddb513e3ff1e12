// The chart with the real helm: `helm lint --strict` and `helm template` of the default, a
// production-like and an external-stores values set; every rendered object validates against
// the Kubernetes v1.33 schema with unknown fields rejected and passes every mandatory rule of
// the policy pack through the offline runner's manifest mode; the migration gate, hooks, HPA and
// NOTES as intended.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART, helm, parseManifests } from "../../test/support/helm";
import { type KubernetesValidator, kubernetesValidator } from "../../test/support/kubernetes-schemas";
import { repoRoot } from "../../test/support/paths";
import type { Manifest } from "./parity";

const run = promisify(execFile);

const VALUE_SETS: Record<string, string[]> = {
  default: [],
  "production-like": ["-f", join(CHART, "ci", "production-values.yaml")],
  "external stores": ["-f", join(CHART, "ci", "external-values.yaml")],
  "Prometheus Operator objects": ["--set", "metrics.prometheusOperator.enabled=true"],
};

const rendered: Record<string, Manifest[]> = {};
let validator: KubernetesValidator;
let dir: string;

const find = (objects: Manifest[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind}/${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found as Manifest & { metadata: { annotations?: Record<string, string> } } & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "chatapi-chart-"));
  validator = await kubernetesValidator();
  for (const [name, args] of Object.entries(VALUE_SETS)) {
    const result = await helm(["template", "prod", CHART, "--namespace", "chatapi", ...args]);
    if (result.code !== 0) throw new Error(`helm template (${name}) failed:\n${result.stderr}`);
    writeFileSync(join(dir, `${name.replace(/\W+/g, "-")}.yaml`), result.stdout);
    rendered[name] = parseManifests(result.stdout);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("helm lint --strict", () => {
  it.each(Object.entries(VALUE_SETS))("passes with %s values", async (_name, args) => {
    const result = await helm(["lint", "--strict", CHART, ...args]);
    expect(result.stdout + result.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(result.code).toBe(0);
  });
});

describe("helm package", () => {
  it("packages the chart with its schema, README, NOTES and the create-secrets script", async () => {
    const out = mkdtempSync(join(tmpdir(), "chatapi-package-"));
    try {
      const result = await helm(["package", CHART, "--destination", out]);
      expect(result.stderr).toBe("");
      const archive = join(out, "chatapi-0.1.0.tgz");
      expect(result.stdout).toContain(archive);
      const { stdout } = await run("tar", ["-tzf", archive]);
      for (const file of [
        "chatapi/Chart.yaml",
        "chatapi/values.yaml",
        "chatapi/values.schema.json",
        "chatapi/README.md",
        "chatapi/templates/NOTES.txt",
        "chatapi/templates/tests/test-health.yaml",
        "chatapi/files/dhparam.pem",
        "chatapi/scripts/create-secrets.sh",
      ])
        expect(stdout.split("\n"), file).toContain(file);
      const lint = await helm(["lint", "--strict", archive]);
      expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("helm template", () => {
  it.each(Object.keys(VALUE_SETS))(
    "renders %s values into objects valid against the Kubernetes schema",
    (name) => {
      const objects = rendered[name]!;
      expect(objects.length).toBeGreaterThan(20);
      for (const object of objects)
        expect(validator.validate(object), `${object.kind}/${object.metadata.name}`).toEqual([]);
      // Everything but the custom resources (cert-manager's, the Prometheus Operator's: checked
      // against their CRD schemas) is checked with unknown fields rejected.
      const custom = (o: Manifest) => o.kind === "Certificate" || o.apiVersion === "monitoring.coreos.com/v1";
      expect(objects.filter((o) => !validator.strict(o)).map((o) => o.kind)).toEqual(
        objects.filter(custom).map((o) => o.kind),
      );
    },
  );

  it("with metrics.prometheusOperator: PodMonitors with the rules' job labels, the PrometheusRule, the dashboard", () => {
    const objects = rendered["Prometheus Operator objects"]!;
    const of = (kind: string) => objects.filter((o) => o.kind === kind) as (Manifest & Record<string, any>)[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(of("PodMonitor").map((m) => m.spec.podMetricsEndpoints[0].relabelings[0].replacement)).toEqual([
      "chatapi-api",
      "chatapi-worker",
      "rabbitmq",
    ]);
    // Every rule but the backup group's (no Pushgateway in the chart yet).
    const groups = of("PrometheusRule")[0]!.spec.groups as { name: string; rules: unknown[] }[];
    expect(groups.map((g) => g.name)).not.toContain("chatapi.backups");
    expect(groups.flatMap((g) => g.rules)).toHaveLength(16);
    const dashboard = find(objects, "ConfigMap", "prod-chatapi-dashboard");
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    expect(JSON.parse(dashboard.data["chatapi.json"] as string).uid).toBe("chatapi-overview");
    expect(rendered.default!.filter((o) => o.apiVersion === "monitoring.coreos.com/v1")).toEqual([]);
  });

  it("passes every mandatory policy rule (npm run policy -- --manifests, every render)", async () => {
    const files = Object.keys(VALUE_SETS).map((name) => join(dir, `${name.replace(/\W+/g, "-")}.yaml`));
    const { stdout } = await run(
      join(repoRoot, "node_modules", ".bin", "tsx"),
      [
        join(repoRoot, "policies", "offline", "cli.ts"),
        ...files.flatMap((f) => ["--manifests", f]),
        "--json",
      ],
      { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
    ); // exit status 1 (a mandatory violation) would reject here
    const reports = JSON.parse(stdout) as {
      title: string;
      resources: number;
      violations: { level: string; rule: string }[];
    }[];
    expect(reports).toHaveLength(Object.keys(VALUE_SETS).length);
    for (const report of reports) {
      expect(report.resources, report.title).toBeGreaterThan(20);
      expect(
        report.violations.filter((v) => v.level === "mandatory"),
        report.title,
      ).toEqual([]);
    }
  });

  it("leaves the API's replicas to the HPA (3..10 at 70% CPU) and fixes them without it", () => {
    const api = find(rendered.default!, "Deployment", "prod-chatapi-api");
    expect(api.spec.replicas).toBeUndefined();
    expect(find(rendered.default!, "HorizontalPodAutoscaler", "prod-chatapi-api").spec).toMatchObject({
      scaleTargetRef: { kind: "Deployment", name: "prod-chatapi-api" },
      minReplicas: 3,
      maxReplicas: 10,
      metrics: [{ resource: { name: "cpu", target: { averageUtilization: 70 } } }],
    });
    const external = rendered["external stores"]!;
    expect(find(external, "Deployment", "prod-chatapi-api").spec.replicas).toBe(4);
    expect(external.some((o) => o.kind === "HorizontalPodAutoscaler")).toBe(false);
  });

  it("gates the API, the workers and the admin bootstrap on the migration (init containers), with no hook before them", () => {
    for (const name of ["default", "external stores"]) {
      const objects = rendered[name]!;
      expect(
        objects.some((o) => o.kind === "Job" && o.metadata.name === "prod-chatapi-migrate"),
        name,
      ).toBe(false);
      for (const [kind, object] of [
        ["Deployment", "prod-chatapi-api"],
        ["Deployment", "prod-chatapi-worker"],
        ["Job", "prod-chatapi-bootstrap-admin"],
      ] as const) {
        const pod = find(objects, kind, object).spec.template.spec;
        const [init] = pod.initContainers;
        expect(pod.initContainers, `${name} ${object}`).toHaveLength(1);
        expect(init).toMatchObject({ name: "migrate", command: ["chatapi"], args: ["migrate"] });
        // The main container's image, database URL and hardening.
        expect(init.image).toBe(pod.containers[0].image);
        expect(init.env).toContainEqual({ name: "DATABASE_URL_FILE", value: "/run/secrets/database_url" });
        expect(init.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
      }
      // The bootstrap needs the admin key and the schema: after install and every upgrade.
      const bootstrap = find(objects, "Job", "prod-chatapi-bootstrap-admin").metadata.annotations!;
      expect(bootstrap["helm.sh/hook"], name).toBe("post-install,post-upgrade");
      expect(bootstrap["helm.sh/hook-delete-policy"]).toBe("before-hook-creation,hook-succeeded");
      // No pre-install hook, so no hook copy of the ServiceAccount either.
      expect(objects.filter((o) => o.kind === "ServiceAccount")).toHaveLength(1);
    }
  });

  it("has a helm test Job that checks /health through the load balancer Service", () => {
    const test = find(rendered.default!, "Job", "prod-chatapi-test-health");
    expect(test.metadata.annotations!["helm.sh/hook"]).toBe("test");
    const container = test.spec.template.spec.containers[0];
    expect(container.command.join(" ")).toContain('path: "/health"');
    expect(container.args).toEqual(["prod-chatapi-nginx", "443", "chat.example.com", "true"]);
    expect(container.command.join(" ")).toContain("ca: process.env.TEST_CA_CERTIFICATE || undefined");
    expect(container.env).toBeUndefined(); // the image's public CAs unless tests.caCertificate is set
    find(rendered.default!, "Service", "prod-chatapi-nginx");
  });

  it("gives the helm test pod the private CA of tests.caCertificate", async () => {
    const pem = `-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n`;
    const result = await helm(["template", "prod", CHART, "--set-string", `tests.caCertificate=${pem}`]);
    expect(result.stderr).toBe("");
    const test = find(parseManifests(result.stdout), "Job", "prod-chatapi-test-health");
    expect(test.spec.template.spec.containers[0].env).toEqual([{ name: "TEST_CA_CERTIFICATE", value: pem }]);
  });

  it("never renders a Secret: passwords and keys come from the Secrets values name", () => {
    for (const objects of Object.values(rendered)) expect(objects.map((o) => o.kind)).not.toContain("Secret");
    const external = rendered["external stores"]!;
    const sources = find(external, "Deployment", "prod-chatapi-api").spec.template.spec.volumes[0].projected
      .sources;
    expect(sources.map((s: { secret: { name: string } }) => s.secret.name)).toEqual([
      "managed-postgres",
      "managed-redis",
      "managed-rabbitmq",
      "prod-chatapi-secrets",
    ]);
  });
});

describe("NOTES.txt", () => {
  // helm template does not print NOTES and helm install needs a cluster: render the same text
  // through tpl in a throwaway copy of the chart.
  it("tells how to reach the API and WebSocket endpoint and how to read the admin API key", async () => {
    const copy = mkdtempSync(join(tmpdir(), "chatapi-notes-"));
    try {
      cpSync(CHART, copy, { recursive: true });
      cpSync(join(CHART, "templates", "NOTES.txt"), join(copy, "files", "notes.txt"));
      writeFileSync(
        join(copy, "templates", "zz-notes.yaml"),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "files/notes.txt") . | toJson }}\n',
      );
      const notes = async (args: string[]) => {
        const result = await helm([
          "template",
          "prod",
          copy,
          "-n",
          "chatapi",
          "--show-only",
          "templates/zz-notes.yaml",
          ...args,
        ]);
        expect(result.stderr).toBe("");
        return (parseManifests(result.stdout)[0] as unknown as { data: { notes: string } }).data.notes;
      };
      const text = await notes(["-f", join(CHART, "ci", "production-values.yaml")]);
      expect(text).toContain("REST       https://chat.example.com/api/v1/");
      expect(text).toContain("WebSocket  wss://chat.example.com/ws");
      expect(text).toContain("kubectl -n chatapi get service prod-chatapi-nginx");
      expect(text).toContain(
        "kubectl -n chatapi get secret chatapi-secrets \\\n       -o jsonpath='{.data.admin_api_key}' | base64 -d",
      );
      expect(text).toContain("Its client id: 6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f");
      expect(text).toContain("helm test prod -n chatapi");
      const internal = await notes(["-f", join(CHART, "ci", "external-values.yaml")]);
      expect(internal).toContain("WebSocket  wss://chat.internal.example.com:8443/ws");
      expect(internal).toContain("kubectl -n chatapi port-forward service/prod-chatapi-nginx 8443:8443");
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
