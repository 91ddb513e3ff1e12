// Stack config → deployment plan. Pure: no Pulumi resources, no secret values, no I/O.
import { httpsOrigin } from "../config/defaults";
import type { SecretConfigKey, StackConfig } from "../config/types";
import { planFirewall } from "./firewall";
import { attachNetworks, planFlows, planNetworks } from "./flows";
import { planImages } from "./images";
import { stackPrefix } from "./names";
import { planSecrets } from "./secrets";
import type { CertbotPlan, DeploymentPlan, KubernetesPlan, TlsPlan, WorkloadPlan } from "./types";
import {
  apiWorkload,
  appVolumes,
  backupWorkload,
  bootstrapAdminWorkload,
  migrateWorkload,
  workerWorkload,
} from "./workloads/app";
import type { PlanContext } from "./workloads/common";
import { dataStoreVolumes, dataStoreWorkloads } from "./workloads/datastores";
import { fanoutClusterVolumes, fanoutClusterWorkloads } from "./workloads/fanout-cluster";
import { loadBalancerPlan, loadBalancerVolumes, nginxWorkload } from "./workloads/nginx";
import { acmeVolumes, certbotPlan, certbotWorkload, firewallWorkload } from "./workloads/ops";
import {
  dockerExporterWorkloads,
  dockerMonitoringFlows,
  dockerScrapeJobs,
  kubernetesMonitoringFlows,
  kubernetesMonitoringWorkloads,
  kubernetesScrapeJobs,
  withKubernetesMonitoring,
  monitoringImages,
  monitoringPlan,
  monitoringVolumes,
  prometheusWorkload,
} from "./workloads/monitoring";
import {
  alertmanagerFlows,
  alertmanagerPlan,
  alertmanagerSecrets,
  alertmanagerVolume,
  alertmanagerWorkload,
} from "./workloads/alertmanager";
import { dockerInstances } from "./names";

export interface PlanInput {
  config: StackConfig;
  /** Version of the bundled app (app/package.json). */
  appVersion: string;
}

function tlsPlan(ctx: PlanContext, certbot: CertbotPlan | undefined): TlsPlan {
  const s = ctx.settings;
  if (s.tls.mode === "provided") return { mode: "provided" };
  if (s.tls.mode === "acme") {
    return {
      mode: "acme",
      ...(certbot ? { certbot } : {}),
      issuer: s.tls.issuerName
        ? { existing: true, name: s.tls.issuerName, kind: s.tls.issuerKind }
        : {
            existing: false,
            name: `${ctx.prefix}-acme`,
            kind: "Issuer",
            email: s.tls.acmeEmail ?? "",
            server: s.tls.acmeServer,
          },
    };
  }
  const local = s.domain === "localhost";
  return {
    mode: "self-signed",
    commonName: s.domain,
    dnsNames: local ? ["localhost"] : [s.domain],
    ipAddresses: local ? ["127.0.0.1", "::1"] : [],
    validityHours: s.tls.selfSignedValidityDays * 24,
  };
}

function kubernetesPlan(ctx: PlanContext): KubernetesPlan {
  const k = ctx.settings.kubernetes;
  const optional = <K extends "storageClassName" | "gatewayClassName">(key: K) =>
    k[key] ? { [key]: k[key] } : {};
  return {
    namespace: k.namespace,
    ...optional("storageClassName"),
    ...optional("gatewayClassName"),
    nginxReplicas: ctx.settings.nginx.replicas,
    serviceType: k.serviceType,
    imagePullPolicy: k.imagePullPolicy,
    pdbMaxUnavailable: k.pdbMaxUnavailable,
    prometheusScrape: k.prometheusScrape,
    prometheusNamespace: k.prometheusNamespace,
    tlsSecretName: `${ctx.prefix}-tls`,
    provider: {
      ...(k.context ? { context: k.context } : {}),
      ...(k.kubeconfig ? { kubeconfig: k.kubeconfig } : {}),
      ...(k.renderYamlToDirectory ? { renderYamlToDirectory: k.renderYamlToDirectory } : {}),
    },
  };
}

/** Host names of each workload's instances (the scrape targets of the roles Prometheus scrapes directly). */
function scrapedHosts(workloads: WorkloadPlan[]): Partial<Record<string, string[]>> {
  return Object.fromEntries(workloads.map((w) => [w.role, dockerInstances(w).map((i) => i.shortName)]));
}

export function buildPlan({ config, appVersion }: PlanInput): DeploymentPlan {
  const s = config.settings;
  const provided = new Set(Object.keys(config.secrets) as SecretConfigKey[]);
  const prefix = stackPrefix(config.stack);
  const ctx: PlanContext = { settings: s, stack: config.stack, prefix, appVersion, provided };

  const api = apiWorkload(ctx);
  const certbot = certbotPlan(ctx);
  const lb = loadBalancerPlan(ctx, certbot);
  const firewall = planFirewall(s, config.stack);
  const dockerMonitoring = s.monitoring.enabled && s.target === "docker";
  const kubernetesMonitoring = s.monitoring.enabled && s.target === "kubernetes";
  const hasNginx = !(s.target === "kubernetes" && s.kubernetes.gatewayClassName);
  const alertmanager = alertmanagerPlan(ctx);
  const monitoring = monitoringPlan(
    ctx,
    dockerMonitoring
      ? dockerScrapeJobs(ctx, lb)
      : kubernetesMonitoring
        ? kubernetesScrapeJobs(ctx, lb, hasNginx)
        : [],
    alertmanager,
  );
  const stackWorkloads = [
    // The host firewall first: nginx's ports are filtered from the moment they are published.
    ...(firewall.enabled ? [firewallWorkload(ctx, firewall)] : []),
    ...dataStoreWorkloads(ctx),
    ...fanoutClusterWorkloads(ctx),
    migrateWorkload(ctx),
    bootstrapAdminWorkload(ctx),
    api,
    workerWorkload(ctx),
    // A Gateway (Kubernetes, kubernetes.gatewayClassName) replaces the nginx load balancer.
    ...(hasNginx ? [nginxWorkload(ctx, lb)] : []),
    ...(s.backup.enabled ? [backupWorkload(ctx)] : []),
    ...(certbot ? [certbotWorkload(ctx, certbot)] : []),
  ];
  const exporters = dockerMonitoring ? dockerExporterWorkloads(ctx, monitoring) : [];
  const workloads = dockerMonitoring
    ? [
        ...stackWorkloads,
        ...exporters,
        prometheusWorkload(ctx, monitoring, scrapedHosts([...stackWorkloads, ...exporters])),
        ...(alertmanager ? [alertmanagerWorkload(ctx, alertmanager)] : []),
      ]
    : kubernetesMonitoring
      ? [...withKubernetesMonitoring(ctx, stackWorkloads), ...kubernetesMonitoringWorkloads(ctx, monitoring)]
      : stackWorkloads;
  const flows = [
    ...planFlows(s, workloads, provided.has("sentryDsn")),
    ...(dockerMonitoring ? dockerMonitoringFlows(monitoring.jobs, lb) : []),
    ...(alertmanager ? alertmanagerFlows(alertmanager, s.smtp.port) : []),
    ...(kubernetesMonitoring ? kubernetesMonitoringFlows(monitoring, lb) : []),
  ];
  const origin = httpsOrigin(s);

  return {
    project: "chatapi",
    stack: config.stack,
    prefix,
    target: s.target,
    environment: s.environment,
    domain: s.domain,
    urls: {
      https: `${origin}/`,
      websocket: `${origin.replace(/^https/, "wss")}/ws`,
      health: `${origin}/health`,
    },
    images: {
      ...planImages(
        s,
        workloads.some((w) => w.image === "ops"),
      ),
      ...monitoringImages(s, workloads),
    },
    secrets: [...planSecrets(s, provided), ...alertmanagerSecrets(alertmanager)],
    generated: [
      {
        name: "admin_client_id",
        source: s.admin.clientId ? { kind: "fixed", value: s.admin.clientId } : { kind: "uuid" },
      },
    ],
    networks: planNetworks(prefix, flows),
    volumes: [
      ...dataStoreVolumes(ctx),
      ...fanoutClusterVolumes(ctx),
      ...appVolumes(ctx),
      ...loadBalancerVolumes(ctx, lb),
      ...(certbot ? acmeVolumes(ctx) : []),
      ...(dockerMonitoring ? monitoringVolumes(ctx) : []),
      ...(alertmanager ? [alertmanagerVolume(ctx)] : []),
    ],
    workloads: attachNetworks(workloads, flows),
    flows,
    tls: tlsPlan(ctx, certbot),
    loadBalancer: lb,
    backup: {
      enabled: s.backup.enabled,
      schedule: s.backup.schedule,
      retentionDays: s.backup.retentionDays,
      format: s.backup.format,
      volume: "backups",
      directory: "/backups",
      ...(s.backup.s3 ? { s3: { ...s.backup.s3, forcePathStyle: s.backup.s3.forcePathStyle ?? false } } : {}),
    },
    ...(s.api.autoscaling.enabled
      ? {
          autoscaling: {
            role: "api" as const,
            minReplicas: s.api.autoscaling.minReplicas,
            maxReplicas: s.api.autoscaling.maxReplicas,
            targetCpuUtilization: s.api.autoscaling.targetCpuUtilization,
          },
        }
      : {}),
    firewall,
    docker: {
      ...(s.docker.host ? { host: s.docker.host } : {}),
      sshOpts: s.docker.sshOpts,
      insecureTcp: s.docker.insecureTcp,
      log: { driver: "json-file", maxSize: s.docker.logMaxSize, maxFiles: s.docker.logMaxFiles },
      releases: { readyTimeoutSeconds: s.deploy.readyTimeoutSeconds, keep: s.deploy.keepReleases },
    },
    kubernetes: kubernetesPlan(ctx),
    admin: { name: s.admin.name, email: s.admin.email },
    monitoring,
  };
}
