// The monitoring part of a Docker stack (monitoring.enabled): Prometheus, published on the host's
// loopback only, scraping every API instance, worker and the backup scheduler, RabbitMQ's own
// /metrics, and the exporters this file adds (PostgreSQL, Redis, nginx's stub_status, the host's
// disk, and a blackbox probe of the public HTTPS endpoint). Each scrape job carries the `job`
// label the alert rules select on (SCRAPE_JOBS). On Kubernetes the cluster's Prometheus scrapes
// (see ../../kubernetes/manifests/monitoring.ts); these containers are Docker only.
import { stringify } from "yaml";
import { SCRAPE_JOBS, loadAlertRules } from "../../monitoring/monitoring-files";
import { ALERTMANAGER_PORT } from "../../monitoring/alertmanager-config";
import {
  PROMETHEUS_CONFIG,
  blackboxConfig,
  prometheusConfig,
  scrapeTargetFiles,
} from "../../monitoring/prometheus-config";
import { dataStoreHosts, redisExporterAddress, secretPath } from "../secrets";
import type { StackSettings } from "../../config/types";
import type {
  AlertmanagerPlan,
  FilePlan,
  FlowPlan,
  ImagePlan,
  HealthCheckPlan,
  LoadBalancerPlan,
  MonitoringImageKey,
  MonitoringPlan,
  MonitoringRole,
  Role,
  ScrapeJobPlan,
  SidecarPlan,
  VolumePlan,
  WorkloadPlan,
} from "../types";
import { API_PORT, BACKUP_METRICS_PORT, WORKER_METRICS_PORT } from "./app";
import { MiB, type PlanContext, hardened, secretFile, tagOf, tmpfs, workload } from "./common";

/** Ports of the monitoring processes (their images' defaults). */
export const MONITORING_PORTS = {
  prometheus: 9090,
  alertmanager: ALERTMANAGER_PORT,
  "postgres-exporter": 9187,
  "redis-exporter": 9121,
  "nginx-exporter": 9113,
  "blackbox-exporter": 9115,
  "node-exporter": 9100,
  pushgateway: 9091,
} as const satisfies Record<MonitoringRole, number>;

/** nginx's stub_status listener (never published; the nginx exporter reads it). */
export const NGINX_STATUS_PORT = 8081;
export const NGINX_STATUS_PATH = "/stub_status";
/** The images run as nobody, like the official ones. */
export const MONITORING_USER = "65534:65534";
const BLACKBOX_CONFIG = "/etc/blackbox_exporter/blackbox.yml";

const imageOf: Record<MonitoringRole, MonitoringImageKey> = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  "postgres-exporter": "postgresExporter",
  "redis-exporter": "redisExporter",
  "nginx-exporter": "nginxExporter",
  "blackbox-exporter": "blackboxExporter",
  "node-exporter": "nodeExporter",
  pushgateway: "pushgateway",
};

/** `wget` answers for an HTTP endpoint (busybox's in the official images, Debian's in the offline ones). */
export function wgetHealth(port: number, path: string): HealthCheckPlan {
  return {
    command: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${path}`],
    http: { path, port },
    intervalSeconds: 10,
    timeoutSeconds: 5,
    retries: 3,
    startPeriodSeconds: 10,
  };
}

export function monitoringWorkload(
  ctx: PlanContext,
  role: MonitoringRole,
  fields: Omit<
    Parameters<typeof workload>[2],
    "role" | "kind" | "image" | "resources" | "security" | "stopGracePeriodSeconds"
  > &
    Partial<Pick<WorkloadPlan, "resources" | "stopGracePeriodSeconds">>,
): WorkloadPlan {
  const port = MONITORING_PORTS[role];
  return workload(ctx, tagOf(ctx.settings.images[imageOf[role]]), {
    role,
    kind: "service",
    image: imageOf[role],
    ports: [{ name: "metrics", containerPort: port, protocol: "tcp" }],
    health: wgetHealth(port, "/"),
    resources: {
      cpu: { requestMillis: 50, limitMillis: 250 },
      memory: { requestBytes: 32 * MiB, limitBytes: 128 * MiB },
      pidsLimit: 64,
    },
    security: hardened(MONITORING_USER),
    tmpfs: [tmpfs("/tmp", 16)],
    stopGracePeriodSeconds: 10,
    metrics: { port, path: "/metrics" },
    ...fields,
  });
}

/**
 * What Prometheus scrapes on a Docker host, one job per SCRAPE_JOBS label: the workloads whose
 * instances are targets, on which port and path.
 */
export function dockerScrapeJobs(ctx: PlanContext, lb: LoadBalancerPlan): ScrapeJobPlan[] {
  const s = ctx.settings;
  const exporter = (job: string, role: MonitoringRole): ScrapeJobPlan => ({
    job,
    role,
    port: MONITORING_PORTS[role],
    path: "/metrics",
  });
  return [
    { job: SCRAPE_JOBS.api, role: "api", port: API_PORT, path: "/metrics" },
    { job: SCRAPE_JOBS.worker, role: "worker", port: WORKER_METRICS_PORT, path: "/metrics" },
    ...(s.backup.enabled
      ? [{ job: SCRAPE_JOBS.backup, role: "backup" as const, port: BACKUP_METRICS_PORT, path: "/metrics" }]
      : []),
    ...(s.postgres.mode === "container" ? [exporter(SCRAPE_JOBS.postgres, "postgres-exporter")] : []),
    ...(s.redis.mode === "container" ? [exporter(SCRAPE_JOBS.redis, "redis-exporter")] : []),
    ...(s.rabbitmq.mode === "container"
      ? [{ job: SCRAPE_JOBS.rabbitmq, role: "rabbitmq" as const, port: 15692, path: "/metrics" }]
      : []),
    exporter(SCRAPE_JOBS.nginx, "nginx-exporter"),
    exporter(SCRAPE_JOBS.node, "node-exporter"),
    {
      ...exporter(SCRAPE_JOBS.httpsProbe, "blackbox-exporter"),
      path: "/probe",
      // nginx itself, on the internal network, asked for the public name: the certificate
      // clients get, without a way out of the host.
      probe: {
        module: "https_health",
        url: `https://nginx:${lb.listen.https}/health`,
        instance: `https://${ctx.settings.domain}${lb.public.https === 443 ? "" : `:${lb.public.https}`}/health`,
        serverName: ctx.settings.domain,
        verifyCertificate: ctx.settings.tls.mode !== "self-signed",
      },
    },
  ];
}

export function monitoringPlan(
  ctx: PlanContext,
  jobs: ScrapeJobPlan[],
  alertmanager?: AlertmanagerPlan,
): MonitoringPlan {
  const m = ctx.settings.monitoring;
  return {
    enabled: m.enabled,
    prometheusPort: m.prometheusPort,
    scrapeIntervalSeconds: m.scrapeIntervalSeconds,
    evaluationIntervalSeconds: m.evaluationIntervalSeconds,
    retentionDays: m.retentionDays,
    ...(alertmanager ? { alertmanager } : {}),
    jobs,
  };
}

/** Who reaches whom for the monitoring part of a Docker stack, and on which network. */
export function dockerMonitoringFlows(jobs: ScrapeJobPlan[], lb: LoadBalancerPlan): FlowPlan[] {
  const onMonitoring = new Set<string>(["nginx-exporter", "blackbox-exporter", "node-exporter"]);
  const scrapes: FlowPlan[] = jobs.map((job) => ({
    from: "prometheus",
    to: job.role,
    port: job.port,
    purpose: `Prometheus scrapes ${job.job}`,
    network: onMonitoring.has(job.role) ? "monitoring" : "backend",
  }));
  const exporters: FlowPlan[] = [
    ...(jobs.some((j) => j.role === "postgres-exporter")
      ? [{ from: "postgres-exporter" as const, to: "postgres" as const, port: 5432 }]
      : []),
    ...(jobs.some((j) => j.role === "redis-exporter")
      ? [{ from: "redis-exporter" as const, to: "redis" as const, port: 6379 }]
      : []),
    { from: "nginx-exporter" as const, to: "nginx" as const, port: NGINX_STATUS_PORT },
    { from: "blackbox-exporter" as const, to: "nginx" as const, port: lb.listen.https },
  ].map((f) => ({
    ...f,
    purpose: `${f.from} reads ${f.to}`,
    network: f.to === "nginx" ? ("frontend" as const) : ("backend" as const),
  }));
  return [...scrapes, ...exporters];
}

/** `hosts`: the instances of each scraped role (their host names on the stack's networks). */
export function prometheusWorkload(
  ctx: PlanContext,
  plan: MonitoringPlan,
  hosts: Partial<Record<string, string[]>>,
): WorkloadPlan {
  const rules = stringify(loadAlertRules({ backups: ctx.settings.backup.enabled }), { lineWidth: 0 });
  return monitoringWorkload(ctx, "prometheus", {
    description: "Prometheus (scrapes the stack, evaluates the alert rules; 127.0.0.1 only)",
    command: [
      `--config.file=${PROMETHEUS_CONFIG.config}`,
      "--storage.tsdb.path=/prometheus",
      `--storage.tsdb.retention.time=${plan.retentionDays}d`,
      `--web.listen-address=:${MONITORING_PORTS.prometheus}`,
      `--web.external-url=http://127.0.0.1:${plan.prometheusPort}/`,
    ],
    ports: [
      {
        name: "http",
        containerPort: MONITORING_PORTS.prometheus,
        protocol: "tcp",
        // Loopback only: Prometheus has no authentication (policy docker-monitoring-loopback).
        published: { hostPort: plan.prometheusPort, hostAddress: "127.0.0.1" },
      },
    ],
    health: wgetHealth(MONITORING_PORTS.prometheus, "/-/ready"),
    files: [
      { path: PROMETHEUS_CONFIG.config, source: { content: prometheusConfig(plan) } },
      { path: PROMETHEUS_CONFIG.rules, source: { content: rules } },
      // Instances come and go with deploys: Prometheus re-reads these files by itself.
      ...scrapeTargetFiles(plan, hosts).map((f) => ({ ...f, reread: true as const })),
    ],
    resources: {
      cpu: { requestMillis: 100, limitMillis: 1000 },
      memory: { requestBytes: 256 * MiB, limitBytes: 1024 * MiB },
      pidsLimit: 128,
    },
    mounts: [{ volume: "prometheus-data", path: "/prometheus", readOnly: false }],
    stopGracePeriodSeconds: 30,
    metrics: { port: MONITORING_PORTS.prometheus, path: "/metrics" },
  });
}

/** Where node_exporter sees the disk of Docker's volumes (an empty volume of its own). */
export const DOCKER_VOLUMES_DISK = "/host/docker-volumes";

export function monitoringVolumes(ctx: PlanContext): VolumePlan[] {
  return [
    {
      name: "prometheus-data",
      resourceName: `${ctx.prefix}-prometheus-data`,
      purpose: "Prometheus time series",
      sizeBytes: 5 * 1024 * MiB,
      retain: false,
    },
    {
      name: "node-exporter-disk",
      resourceName: `${ctx.prefix}-node-exporter-disk`,
      purpose: "empty: node_exporter reports the free space of the disk it is on (Docker's volumes)",
      sizeBytes: MiB,
      retain: false,
    },
  ];
}

/** The exporters of a Docker stack (the data stores' only for stores the stack runs). */
export function dockerExporterWorkloads(ctx: PlanContext, plan: MonitoringPlan): WorkloadPlan[] {
  const s = ctx.settings;
  const has = (role: MonitoringRole) => plan.jobs.some((j) => j.role === role);
  const port = (role: MonitoringRole) => `--web.listen-address=:${MONITORING_PORTS[role]}`;
  const probe = plan.jobs.find((j) => j.probe)?.probe;
  const out: WorkloadPlan[] = [];
  if (has("postgres-exporter"))
    out.push(
      monitoringWorkload(ctx, "postgres-exporter", {
        description: "postgres_exporter (PostgreSQL's statistics)",
        command: [port("postgres-exporter")],
        env: {
          DATA_SOURCE_URI: `${dataStoreHosts.postgres}:5432/${s.postgres.database}?sslmode=disable`,
          DATA_SOURCE_USER: s.postgres.user,
        },
        files: [secretFile("postgres_password", "DATA_SOURCE_PASS_FILE")],
        dependsOn: [{ role: "postgres", condition: "healthy" }],
      }),
    );
  if (has("redis-exporter"))
    out.push(
      monitoringWorkload(ctx, "redis-exporter", {
        description: "redis_exporter (Redis's INFO)",
        command: [
          `--redis.addr=${redisExporterAddress("docker")}`,
          "--redis.password-file=/run/secrets/redis_exporter_passwords",
          port("redis-exporter"),
        ],
        files: [secretFile("redis_exporter_passwords")],
        dependsOn: [{ role: "redis", condition: "healthy" }],
      }),
    );
  // Its official image has no shell or HTTP client to check with: Prometheus's `up` is its health.
  const { health: _none, ...nginxExporter } = monitoringWorkload(ctx, "nginx-exporter", {
    description: "nginx-prometheus-exporter (nginx's stub_status)",
    command: [
      `--nginx.scrape-uri=http://nginx:${NGINX_STATUS_PORT}${NGINX_STATUS_PATH}`,
      port("nginx-exporter"),
    ],
    dependsOn: [{ role: "nginx", condition: "healthy" }],
  });
  out.push(nginxExporter);
  if (probe)
    out.push(
      monitoringWorkload(ctx, "blackbox-exporter", {
        description: "blackbox_exporter (probes the public HTTPS endpoint: status, certificate expiry)",
        command: [`--config.file=${BLACKBOX_CONFIG}`, port("blackbox-exporter")],
        files: [{ path: BLACKBOX_CONFIG, source: { content: blackboxConfig(probe) } }],
        resources: {
          cpu: { requestMillis: 50, limitMillis: 250 },
          memory: { requestBytes: 32 * MiB, limitBytes: 128 * MiB },
          pidsLimit: 64,
        },
      }),
    );
  out.push(
    monitoringWorkload(ctx, "node-exporter", {
      description: "node_exporter (the disk Docker keeps the stack's volumes on; the host's CPU and memory)",
      command: [
        port("node-exporter"),
        // Docker's own bind mounts (/etc/hosts, ...) would report that disk three times over;
        // the volume below stands for it, under a name that says what it is.
        "--collector.filesystem.mount-points-exclude=^/(dev|proc|run|sys|etc)($|/)",
      ],
      mounts: [{ volume: "node-exporter-disk", path: DOCKER_VOLUMES_DISK, readOnly: true }],
    }),
  );
  return out;
}

/** The monitoring images the workloads (and their sidecars) run, with the preset's pull rule. */
export function monitoringImages(
  s: StackSettings,
  workloads: WorkloadPlan[],
): Partial<Record<MonitoringImageKey, ImagePlan>> {
  const keys = new Set<string>(Object.values(imageOf));
  const used = workloads.flatMap((w) => [
    w.image,
    ...(w.sidecars ?? []).flatMap((c) => (c.image ? [c.image] : [])),
  ]);
  return Object.fromEntries(
    used
      .filter((key): key is MonitoringImageKey => keys.has(key))
      .map((key) => [key, { ref: s.images[key], pull: s.images.preset === "upstream" }]),
  );
}

// ---- Kubernetes: the cluster's Prometheus (the Prometheus Operator) scrapes the stack. ----

/** Where the backup CronJob's one-shot runs push their metrics. */
export const PUSHGATEWAY_URL = `http://pushgateway:${MONITORING_PORTS.pushgateway}`;

/**
 * What the cluster's Prometheus scrapes, one job per SCRAPE_JOBS label: pods by role and port
 * (PodMonitors), the Pushgateway the backup CronJob pushes to, and a Probe of the public endpoint
 * through the blackbox exporter. No `node` job: the cluster's own node exporter covers the nodes.
 */
export function kubernetesScrapeJobs(
  ctx: PlanContext,
  lb: LoadBalancerPlan,
  nginx: boolean,
): ScrapeJobPlan[] {
  const s = ctx.settings;
  const job = (name: string, role: Role, port: number): ScrapeJobPlan => ({
    job: name,
    role,
    port,
    path: "/metrics",
  });
  const nginxService = `https://${ctx.prefix}-nginx.${s.kubernetes.namespace}.svc:${lb.public.https}/health`;
  const publicUrl = `https://${s.domain}${lb.public.https === 443 ? "" : `:${lb.public.https}`}/health`;
  return [
    job(SCRAPE_JOBS.api, "api", API_PORT),
    job(SCRAPE_JOBS.worker, "worker", WORKER_METRICS_PORT),
    ...(s.backup.enabled
      ? [{ ...job(SCRAPE_JOBS.backup, "pushgateway", MONITORING_PORTS.pushgateway), honorLabels: true }]
      : []),
    ...(s.postgres.mode === "container"
      ? [job(SCRAPE_JOBS.postgres, "postgres", MONITORING_PORTS["postgres-exporter"])]
      : []),
    ...(s.redis.mode === "container"
      ? [job(SCRAPE_JOBS.redis, "redis", MONITORING_PORTS["redis-exporter"])]
      : []),
    ...(s.rabbitmq.mode === "container" ? [job(SCRAPE_JOBS.rabbitmq, "rabbitmq", 15692)] : []),
    ...(nginx ? [job(SCRAPE_JOBS.nginx, "nginx", MONITORING_PORTS["nginx-exporter"])] : []),
    {
      ...job(SCRAPE_JOBS.httpsProbe, "blackbox-exporter", MONITORING_PORTS["blackbox-exporter"]),
      path: "/probe",
      probe: {
        module: "https_health",
        // nginx's Service inside the cluster (no hairpin through the load balancer), asked for
        // the public name; with a Gateway, the public URL itself.
        url: nginx ? nginxService : publicUrl,
        instance: publicUrl,
        serverName: s.domain,
        verifyCertificate: s.tls.mode !== "self-signed",
      },
    },
  ];
}

const exporterResources = {
  cpu: { requestMillis: 50, limitMillis: 250 },
  memory: { requestBytes: 32 * MiB, limitBytes: 128 * MiB },
  pidsLimit: 64,
};

function exporterSidecar(
  role: MonitoringRole,
  args: string[],
  fields: Partial<SidecarPlan> = {},
): SidecarPlan {
  const port = MONITORING_PORTS[role];
  return {
    name: role,
    description: `${role}: the pod's metrics for Prometheus`,
    image: imageOf[role],
    user: MONITORING_USER,
    command: [],
    args: [...args, `--web.listen-address=:${port}`],
    ports: [{ name: "metrics", containerPort: port, protocol: "tcp" }],
    httpProbe: { port, path: "/" },
    probe: [],
    resources: exporterResources,
    files: [],
    sharedTmpfs: [],
    ...fields,
  };
}

/**
 * The Kubernetes workloads with monitoring on: exporters beside PostgreSQL, Redis and nginx in
 * their pods (they read them on localhost), the backup CronJob pushing to a Pushgateway, and the
 * blackbox exporter and Pushgateway as their own Deployments.
 */
export function withKubernetesMonitoring(ctx: PlanContext, workloads: WorkloadPlan[]): WorkloadPlan[] {
  const s = ctx.settings;
  const withSidecar = (w: WorkloadPlan, sidecar: SidecarPlan, files: FilePlan[] = []): WorkloadPlan => ({
    ...w,
    files: [...w.files, ...files],
    sidecars: [...(w.sidecars ?? []), sidecar],
  });
  return workloads.map((w) => {
    switch (w.role) {
      case "postgres":
        return withSidecar(
          w,
          exporterSidecar("postgres-exporter", [], {
            env: {
              DATA_SOURCE_URI: `127.0.0.1:5432/${s.postgres.database}?sslmode=disable`,
              DATA_SOURCE_USER: s.postgres.user,
              DATA_SOURCE_PASS_FILE: secretPath("postgres_password"),
            },
            secrets: true,
          }),
        );
      case "redis":
        return withSidecar(
          w,
          exporterSidecar(
            "redis-exporter",
            [
              `--redis.addr=${redisExporterAddress("kubernetes")}`,
              `--redis.password-file=${secretPath("redis_exporter_passwords")}`,
            ],
            { secrets: true },
          ),
          [secretFile("redis_exporter_passwords")],
        );
      case "nginx":
        return withSidecar(
          w,
          exporterSidecar("nginx-exporter", [
            `--nginx.scrape-uri=http://127.0.0.1:${NGINX_STATUS_PORT}${NGINX_STATUS_PATH}`,
          ]),
        );
      case "backup":
        return { ...w, env: { ...w.env, BACKUP_PUSHGATEWAY_URL: PUSHGATEWAY_URL } };
      default:
        return w;
    }
  });
}

export function kubernetesMonitoringWorkloads(ctx: PlanContext, plan: MonitoringPlan): WorkloadPlan[] {
  const probe = plan.jobs.find((j) => j.probe)?.probe;
  const out: WorkloadPlan[] = [];
  if (probe)
    out.push(
      monitoringWorkload(ctx, "blackbox-exporter", {
        description: "blackbox_exporter (probes the public HTTPS endpoint: status, certificate expiry)",
        command: [
          `--config.file=${BLACKBOX_CONFIG}`,
          `--web.listen-address=:${MONITORING_PORTS["blackbox-exporter"]}`,
        ],
        files: [{ path: BLACKBOX_CONFIG, source: { content: blackboxConfig(probe) } }],
      }),
    );
  if (plan.jobs.some((j) => j.role === "pushgateway"))
    out.push(
      monitoringWorkload(ctx, "pushgateway", {
        description: "Pushgateway (the backup CronJob's runs push their metrics here)",
        command: [`--web.listen-address=:${MONITORING_PORTS.pushgateway}`],
        health: wgetHealth(MONITORING_PORTS.pushgateway, "/-/ready"),
      }),
    );
  return out;
}

/** Who reaches whom for monitoring inside the namespace (Prometheus itself comes from its own namespace). */
export function kubernetesMonitoringFlows(plan: MonitoringPlan, lb: LoadBalancerPlan): FlowPlan[] {
  const flows: FlowPlan[] = [];
  if (plan.jobs.some((j) => j.role === "pushgateway"))
    flows.push({
      from: "backup",
      to: "pushgateway",
      port: MONITORING_PORTS.pushgateway,
      purpose: "backup metrics",
    });
  const probe = plan.jobs.find((j) => j.probe)?.probe;
  if (probe && probe.url !== probe.instance)
    flows.push({ from: "blackbox-exporter", to: "nginx", port: lb.listen.https, purpose: "HTTPS probe" });
  else if (probe)
    flows.push({ from: "blackbox-exporter", to: "internet", port: 443, purpose: "HTTPS probe" });
  return flows;
}
