// Names, labels and metadata every Kubernetes object of a stack shares. Pure.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { dataStoreHosts } from "../../plan/secrets";
import type { DeploymentPlan, GeneratedValueName, Role, WorkloadPlan } from "../../plan/types";

/** Names of objects other objects refer to. Data store Services carry the host names of the connection URLs. */
export const objectNames = (plan: DeploymentPlan) => ({
  serviceAccount: plan.prefix,
  apiService: `${plan.prefix}-api`,
  /** nginx's upstream: one A record per ready API pod (plan.loadBalancer.upstream). */
  apiHeadlessService: `${plan.prefix}-api-headless`,
  nginxService: `${plan.prefix}-nginx`,
  gateway: `${plan.prefix}-gateway`,
  dataStoreService: (role: keyof typeof dataStoreHosts) => dataStoreHosts[role],
});

/**
 * Names of objects that Pulumi auto-names (so a change of content gives a new name and rolls
 * the pods that mount them) and that scripts/render names itself.
 */
export interface ObjectRefs {
  /** Opaque Secret holding every app secret; keys are the plan's secret names. */
  appSecret: pulumi.Input<string>;
  /** kubernetes.io/tls Secret of the load balancer. */
  tlsSecret: pulumi.Input<string>;
  /** ConfigMaps of workloads that get plain files (nginx.conf), by role. */
  configMaps: Partial<Record<Role, pulumi.Input<string>>>;
  /** Deploy-time values (the admin client id). */
  generated: Record<GeneratedValueName, pulumi.Input<string>>;
}

/** Labels of an object that belongs to the stack but to no workload. */
export function stackLabels(plan: DeploymentPlan, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "chatapi",
    "app.kubernetes.io/instance": plan.stack,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "chatapi",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The labels that select a workload's pods (stable across versions: no version label). */
export function selectorLabels(plan: DeploymentPlan, role: Role | string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "chatapi",
    "app.kubernetes.io/instance": plan.stack,
    "app.kubernetes.io/component": role,
  };
}

export function metadata(
  plan: DeploymentPlan,
  name: string | undefined,
  labels: Record<string, string>,
  annotations?: Record<string, string>,
): k8s.types.input.meta.v1.ObjectMeta {
  return {
    ...(name ? { name } : {}),
    namespace: plan.kubernetes.namespace,
    labels,
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

export const workloadMetadata = (plan: DeploymentPlan, w: WorkloadPlan, name = w.name) =>
  metadata(plan, name, w.labels);

/** A Kubernetes quantity for a byte count: the largest binary unit that divides it. */
export function bytesQuantity(bytes: number): string {
  for (const [unit, size] of [
    ["Ti", 1024 ** 4],
    ["Gi", 1024 ** 3],
    ["Mi", 1024 ** 2],
    ["Ki", 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(Math.round(bytes));
}

export const cpuQuantity = (millis: number) => (millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`);

/** The literal metadata.name of an object built here (not an Output). */
export function nameOf(object: { metadata?: unknown }): string {
  const name = (object.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name !== "string") throw new Error("the object has no literal metadata.name");
  return name;
}
