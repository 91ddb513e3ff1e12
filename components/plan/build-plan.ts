// Stack config → deployment plan. Pure: no Pulumi resources, no secret values, no I/O.
import { httpsOrigin } from "../config/defaults";
import type { SecretConfigKey, StackConfig } from "../config/types";
import { planFirewall } from "./firewall";
import { attachNetworks, planFlows, planNetworks } from "./flows";
import { planImages } from "./images";
import { stackPrefix } from "./names";
import { planSecrets } from "./secrets";
import type { DeploymentPlan, KubernetesPlan, TlsPlan } from "./types";
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
import { loadBalancerPlan, nginxWorkload } from "./workloads/nginx";

export interface PlanInput {
  config: StackConfig;
  /** Version of the bundled app (app/package.json). */
  appVersion: string;
}

function tlsPlan(ctx: PlanContext): TlsPlan {
  const s = ctx.settings;
  if (s.tls.mode === "provided") return { mode: "provided" };
  if (s.tls.mode === "acme") {
    return {
      mode: "acme",
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

export function buildPlan({ config, appVersion }: PlanInput): DeploymentPlan {
  const s = config.settings;
  const provided = new Set(Object.keys(config.secrets) as SecretConfigKey[]);
  const prefix = stackPrefix(config.stack);
  const ctx: PlanContext = { settings: s, stack: config.stack, prefix, appVersion, provided };

  const api = apiWorkload(ctx);
  const lb = loadBalancerPlan(ctx, api);
  const workloads = [
    ...dataStoreWorkloads(ctx),
    migrateWorkload(ctx),
    bootstrapAdminWorkload(ctx),
    api,
    workerWorkload(ctx),
    // A Gateway (Kubernetes, kubernetes.gatewayClassName) replaces the nginx load balancer.
    ...(s.target === "kubernetes" && s.kubernetes.gatewayClassName ? [] : [nginxWorkload(ctx, lb)]),
    ...(s.backup.enabled ? [backupWorkload(ctx)] : []),
  ];
  const flows = planFlows(s, workloads, provided.has("sentryDsn"));
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
    images: planImages(s),
    secrets: planSecrets(s, provided),
    generated: [
      {
        name: "admin_client_id",
        source: s.admin.clientId ? { kind: "fixed", value: s.admin.clientId } : { kind: "uuid" },
      },
    ],
    networks: planNetworks(prefix, flows),
    volumes: [...dataStoreVolumes(ctx), ...appVolumes(ctx)],
    workloads: attachNetworks(workloads, flows),
    flows,
    tls: tlsPlan(ctx),
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
    firewall: planFirewall(s),
    docker: {
      host: s.docker.host,
      sshOpts: s.docker.sshOpts,
      log: { driver: "json-file", maxSize: s.docker.logMaxSize, maxFiles: s.docker.logMaxFiles },
    },
    kubernetes: kubernetesPlan(ctx),
    admin: { name: s.admin.name, email: s.admin.email },
    monitoring: { enabled: s.monitoring.enabled },
  };
}
