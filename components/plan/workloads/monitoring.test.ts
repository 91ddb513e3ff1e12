// The monitoring part of a Docker stack's plan: every SCRAPE_JOBS label scraped once, from the
// instances the stack runs; Prometheus on the host's loopback only; the exporters on the networks
// of what they read and nothing else; the rendered Prometheus and blackbox configuration.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planFor } from "../../../test/support/stack-plans";
import { containerSpecs } from "../../containers/container-spec";
import { SCRAPE_JOBS } from "../../monitoring/monitoring-files";
import { targetsFile } from "../../monitoring/prometheus-config";
import type { DeploymentPlan, Role } from "../types";

const monitored = (settings: Record<string, unknown> = {}) =>
  planFor("local", { monitoring: { enabled: true }, ...settings });
const workload = (plan: DeploymentPlan, role: Role) => plan.workloads.find((w) => w.role === role);
const fileOf = (plan: DeploymentPlan, role: Role, path: string) => {
  const file = workload(plan, role)?.files.find((f) => f.path === path);
  if (!file || !("content" in file.source)) throw new Error(`${role} has no plain file ${path}`);
  return file.source.content;
};
const monitoringRoles: Role[] = [
  "postgres-exporter",
  "redis-exporter",
  "nginx-exporter",
  "blackbox-exporter",
  "node-exporter",
  "prometheus",
];

describe("the monitoring part of a Docker stack", () => {
  it("is absent unless monitoring.enabled", () => {
    const plan = planFor("local");
    expect(plan.workloads.map((w) => w.role)).not.toContain("prometheus");
    expect(plan.networks.map((n) => n.name)).not.toContain("monitoring");
    expect(Object.keys(plan.images).sort()).toEqual(["app", "nginx", "postgres", "rabbitmq", "redis"]);
    expect(plan.loadBalancer.status).toBeUndefined();
    expect(plan.secrets.map((s) => s.name)).not.toContain("redis_exporter_passwords");
  });

  it("scrapes every job the alert rules select on, exactly once", () => {
    const plan = monitored();
    expect(plan.monitoring.jobs.map((j) => j.job).sort()).toEqual(Object.values(SCRAPE_JOBS).sort());
    const config = parse(fileOf(plan, "prometheus", "/etc/prometheus/prometheus.yml")) as {
      global: Record<string, string>;
      scrape_configs: { job_name: string }[];
    };
    expect(config.scrape_configs.map((c) => c.job_name).sort()).toEqual(Object.values(SCRAPE_JOBS).sort());
    expect(config.global).toEqual({
      scrape_interval: "10s",
      scrape_timeout: "10s",
      evaluation_interval: "5s",
    });
  });

  it("leaves out the jobs of data stores the stack does not run, and the backups when off", () => {
    const plan = planFor(
      "local",
      { monitoring: { enabled: true }, postgres: { mode: "external" }, backup: { enabled: false } },
      { "chatapi:databaseUrl": "postgresql://chatapi:pw@db.example.com:5432/chatapi" },
    );
    const jobs = plan.monitoring.jobs.map((j) => j.job);
    expect(jobs).not.toContain(SCRAPE_JOBS.postgres);
    expect(jobs).not.toContain(SCRAPE_JOBS.backup);
    expect(workload(plan, "postgres-exporter")).toBeUndefined();
    const rules = fileOf(plan, "prometheus", "/etc/prometheus/rules/chatapi.yml");
    expect(rules).not.toContain("ChatAPIBackupTooOld");
    expect(rules).toContain("ChatAPIInstanceDown");
  });

  it("lists each instance of the app's roles as a file_sd target, re-read without a re-create", () => {
    const plan = monitored({ api: { replicas: 3 }, worker: { replicas: 2 } });
    const targets = (job: string) =>
      (JSON.parse(fileOf(plan, "prometheus", targetsFile(job))) as { targets: string[] }[])[0]!.targets;
    expect(targets(SCRAPE_JOBS.api)).toEqual(["api-1:8000", "api-2:8000", "api-3:8000"]);
    expect(targets(SCRAPE_JOBS.worker)).toEqual(["worker-1:9000", "worker-2:9000"]);
    expect(targets(SCRAPE_JOBS.backup)).toEqual(["backup:9000"]);
    expect(targets(SCRAPE_JOBS.rabbitmq)).toEqual(["rabbitmq:15692"]);
    expect(targets(SCRAPE_JOBS.postgres)).toEqual(["postgres-exporter:9187"]);
    const files = workload(plan, "prometheus")!.files;
    expect(files.filter((f) => f.reread).map((f) => f.path)).toHaveLength(8);
    expect(files.find((f) => f.path.endsWith("prometheus.yml"))?.reread).toBeUndefined();
  });

  it("publishes Prometheus on 127.0.0.1 only, at monitoring.prometheusPort, and nothing else of it", () => {
    const specs = containerSpecs(
      monitored({ monitoring: { enabled: true, prometheusPort: 19090 } }),
      "0000beef",
    );
    const published = specs.flatMap((s) => s.ports.map((p) => ({ service: s.service, ...p.published })));
    expect(published).toEqual([
      { service: "nginx", hostPort: 8080, hostAddress: "127.0.0.1" },
      { service: "nginx", hostPort: 8443, hostAddress: "127.0.0.1" },
      { service: "prometheus", hostPort: 19090, hostAddress: "127.0.0.1" },
    ]);
  });

  it("puts the monitoring processes on the networks of what they read, nothing more", () => {
    const specs = containerSpecs(monitored(), "0000beef");
    const networksOf = (service: string) =>
      specs
        .find((s) => s.service === service)!
        .networks.map((n) => n.network)
        .sort();
    expect(networksOf("prometheus")).toEqual(["backend", "monitoring", "public"]);
    expect(networksOf("postgres-exporter")).toEqual(["backend"]);
    expect(networksOf("redis-exporter")).toEqual(["backend"]);
    expect(networksOf("nginx-exporter")).toEqual(["frontend", "monitoring"]);
    expect(networksOf("blackbox-exporter")).toEqual(["frontend", "monitoring"]);
    expect(networksOf("node-exporter")).toEqual(["monitoring"]);
    const monitoring = monitored().networks.find((n) => n.name === "monitoring");
    expect(monitoring).toMatchObject({ internal: true, isolatedFromHost: true });
  });

  it("runs every monitoring process as nobody, hardened, with the preset's images", () => {
    const plan = monitored({ images: { preset: "offline" } });
    for (const role of monitoringRoles) {
      const w = workload(plan, role)!;
      expect(w.security, role).toEqual({
        user: "65534:65534",
        readOnlyRootFilesystem: true,
        dropCapabilities: ["ALL"],
        addCapabilities: [],
        noNewPrivileges: true,
      });
      expect(plan.images[w.image as keyof typeof plan.images]?.ref, role).toMatch(/^chatapi-local\//);
    }
    const upstream = monitored({ images: { preset: "upstream" } });
    expect(upstream.images.prometheus).toEqual({ ref: "prom/prometheus:v2.53.4", pull: true });
  });

  it("gives the exporters their credentials as files only", () => {
    const plan = monitored();
    const postgres = workload(plan, "postgres-exporter")!;
    expect(postgres.env).toEqual({
      DATA_SOURCE_URI: "postgres:5432/chatapi?sslmode=disable",
      DATA_SOURCE_USER: "chatapi",
    });
    expect(postgres.files).toEqual([
      {
        path: "/run/secrets/postgres_password",
        source: { secret: "postgres_password" },
        env: "DATA_SOURCE_PASS_FILE",
      },
    ]);
    expect(workload(plan, "redis-exporter")!.command).toContain(
      "--redis.password-file=/run/secrets/redis_exporter_passwords",
    );
    expect(plan.secrets.find((s) => s.name === "redis_exporter_passwords")?.source).toEqual({
      kind: "template",
      parts: ['{"redis://redis:6379": "', { secret: "redis_password" }, '"}\n'],
    });
  });

  it("probes nginx on the internal network under the public name, and serves stub_status apart", () => {
    const plan = monitored();
    expect(plan.monitoring.jobs.find((j) => j.probe)?.probe).toEqual({
      module: "https_health",
      url: "https://nginx:8443/health",
      instance: "https://localhost:8443/health",
      serverName: "localhost",
      verifyCertificate: false,
    });
    const blackbox = parse(fileOf(plan, "blackbox-exporter", "/etc/blackbox_exporter/blackbox.yml")) as {
      modules: Record<string, { http: { tls_config: Record<string, unknown> } }>;
    };
    expect(blackbox.modules.https_health?.http.tls_config).toEqual({
      server_name: "localhost",
      insecure_skip_verify: true,
    });
    const nginxConf = fileOf(plan, "nginx", "/etc/nginx/chatapi/nginx.conf");
    expect(nginxConf).toContain("listen 8081;");
    expect(nginxConf).toContain("location = /stub_status {\n            stub_status;");
    expect(workload(plan, "nginx")!.ports.map((p) => p.containerPort)).toEqual([8080, 8443]);
  });
});
