// The stack's Kubernetes objects as plain data, for people who deploy with kubectl or GitOps
// (scripts/render): the same builders the Pulumi components use, with names chosen here where
// Pulumi would auto-name (the nginx ConfigMap gets a content hash, so a config change still
// rolls nginx). Secret objects are not rendered: ./secrets-script.ts writes a script that
// creates them in the cluster, so no secret value ever lands in a file.
import { monitoringObjects } from "../manifests/monitoring";
import { createHash } from "node:crypto";
import type { DeploymentPlan, Role, WorkloadPlan } from "../../plan/types";
import { apiRoute, gateway, redirectRoute } from "../manifests/gateway";
import { type ObjectRefs, objectNames } from "../manifests/meta";
import { configMapData } from "../manifests/files";
import { configMap, namespace, serviceAccount } from "../manifests/namespace";
import { networkPolicies } from "../manifests/network-policies";
import { horizontalPodAutoscaler, podDisruptionBudget } from "../manifests/scaling";
import {
  apiHeadlessService,
  apiService,
  dataStoreService,
  monitoringService,
  nginxService,
} from "../manifests/services";
import { acmeIssuer, certificate } from "../manifests/tls";
import { cronJob, deployment, job, persistentVolumeClaim, statefulSet } from "../manifests/workloads";

/** A Kubernetes object as plain data (every value a literal: no Pulumi outputs here). */
export type KubernetesObject = { apiVersion: string; kind: string; metadata: { name: string } } & Record<
  string,
  unknown
>;

/** Files in kubectl apply order; what each must wait for is in the README. */
export interface RenderedManifests {
  files: { name: string; description: string; objects: KubernetesObject[] }[];
  refs: ObjectRefs & { appSecret: string; tlsSecret: string };
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex");

/** The admin client id: the configured one, else a UUID derived from the stack (stable across renders). */
export function renderedAdminClientId(plan: DeploymentPlan): string {
  const item = plan.generated.find((g) => g.name === "admin_client_id");
  if (item?.source.kind === "fixed") return item.source.value;
  const h = hash(`chatapi/${plan.stack}/admin_client_id`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function renderRefs(plan: DeploymentPlan): RenderedManifests["refs"] {
  const configMaps: Partial<Record<Role, string>> = {};
  for (const w of plan.workloads) {
    const data = configMapData(w);
    if (Object.keys(data).length > 0)
      configMaps[w.role] = `${w.name}-${hash(JSON.stringify(data)).slice(0, 10)}`;
  }
  return {
    appSecret: `${plan.prefix}-secrets`,
    tlsSecret: plan.kubernetes.tlsSecretName,
    configMaps,
    generated: { admin_client_id: renderedAdminClientId(plan) },
  };
}

const asObject = (value: unknown) => value as KubernetesObject;

export function renderManifests(plan: DeploymentPlan): RenderedManifests {
  if (plan.target !== "kubernetes")
    throw new Error(`stack ${plan.stack} targets ${plan.target}, not kubernetes`);
  const refs = renderRefs(plan);
  const byRole = (role: Role) => plan.workloads.find((w) => w.role === role);
  const stores = plan.workloads.filter((w) => ["postgres", "redis", "rabbitmq"].includes(w.role));
  const api = byRole("api");
  const nginx = byRole("nginx");
  const backup = byRole("backup");
  const replicated = [api, byRole("worker"), nginx].filter((w): w is WorkloadPlan => w !== undefined);

  const base: unknown[] = [
    ...networkPolicies(plan),
    ...plan.workloads
      .filter((w) => refs.configMaps[w.role])
      .map((w) => configMap(plan, w, refs.configMaps[w.role] as string)),
    ...stores.map((w) => dataStoreService(plan, w)),
    ...(api ? [apiService(plan, api), apiHeadlessService(plan, api)] : []),
    ...(nginx ? [nginxService(plan, nginx)] : []),
    ...plan.workloads
      .filter((w) => w.role === "blackbox-exporter" || w.role === "pushgateway")
      .map((w) => monitoringService(plan, w)),
    ...(backup
      ? backup.mounts
          .filter((m) => !plan.volumes.find((v) => v.name === m.volume)?.perInstance)
          .map((m) => persistentVolumeClaim(plan, m.volume))
      : []),
    ...(plan.tls.mode === "acme"
      ? [...(plan.tls.issuer.existing ? [] : [acmeIssuer(plan)]), certificate(plan)]
      : []),
    ...replicated.map((w) => podDisruptionBudget(plan, w)),
  ];
  const jobs = plan.workloads.filter((w) => w.kind === "job");
  const apps: unknown[] = [];
  for (const w of plan.workloads) {
    if (w.kind === "scheduled") apps.push(cronJob(plan, w, refs));
    if (w.kind !== "service" || stores.includes(w)) continue;
    const scaling = plan.autoscaling?.role === w.role ? plan.autoscaling : undefined;
    apps.push(deployment(plan, w, refs, { autoscaled: scaling !== undefined }));
    if (scaling) apps.push(horizontalPodAutoscaler(plan, w, scaling));
  }
  if (plan.kubernetes.gatewayClassName)
    apps.push(gateway(plan, refs.tlsSecret), apiRoute(plan), redirectRoute(plan));

  return {
    refs,
    files: [
      {
        name: "00-namespace.yaml",
        description: "namespace (Pod Security restricted) and ServiceAccount",
        objects: [namespace(plan), serviceAccount(plan)].map(asObject),
      },
      {
        name: "10-base.yaml",
        description:
          "NetworkPolicies, ConfigMaps, Services, the backups PVC, certificate, PodDisruptionBudgets",
        objects: base.map(asObject),
      },
      {
        name: "20-data-stores.yaml",
        description: "PostgreSQL, Redis, RabbitMQ StatefulSets: wait until ready",
        objects: stores
          .map((w) => statefulSet(plan, w, refs, objectNames(plan).dataStoreService(w.role as "postgres")))
          .map(asObject),
      },
      // One file per Job: the admin bootstrap needs the migrated schema.
      ...jobs.map((w, i) => ({
        name: `${30 + i}-${w.role}.yaml`,
        description: `${w.description}: wait until complete`,
        objects: [asObject(job(plan, w, refs))],
      })),
      {
        name: "40-apps.yaml",
        description: "API, workers, nginx, HPA, backup CronJob",
        objects: apps.map(asObject),
      },
      ...(plan.monitoring.enabled
        ? [
            {
              name: "50-monitoring.yaml",
              description:
                "PodMonitors, Probe, PrometheusRule (need the Prometheus Operator's CRDs), Grafana dashboard ConfigMap",
              objects: monitoringObjects(plan).map(asObject),
            },
          ]
        : []),
    ],
  };
}
