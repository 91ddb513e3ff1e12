// What both targets do alike with the plan's workloads: each becomes one component, named in
// the Pulumi graph by its guide item's type token, created in the plan's order after the
// components it depends on. The tokens are part of every child's URN: a changed token makes
// `pulumi up` replace the stack's resources, so they stay as they are (or move with aliases).
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, KubernetesRole, MonitoringRole, Role, WorkloadPlan } from "./plan/types";

/** The monitoring part's components (monitoring.enabled). */
function monitoringTypes<T extends "docker" | "kubernetes">(target: T) {
  return {
    prometheus: `chatapi:${target}:Prometheus`,
    alertmanager: `chatapi:${target}:Alertmanager`,
    "postgres-exporter": `chatapi:${target}:PostgresExporter`,
    "redis-exporter": `chatapi:${target}:RedisExporter`,
    "nginx-exporter": `chatapi:${target}:NginxExporter`,
    "blackbox-exporter": `chatapi:${target}:BlackboxExporter`,
    "node-exporter": `chatapi:${target}:NodeExporter`,
    pushgateway: `chatapi:${target}:Pushgateway`,
  } as const satisfies Record<MonitoringRole, `chatapi:${T}:${string}`>;
}

export const workloadComponentTypes = {
  docker: {
    postgres: "chatapi:docker:Postgres",
    redis: "chatapi:docker:Redis",
    "redis-cluster": "chatapi:docker:FanoutRedisCluster",
    "redis-cluster-init": "chatapi:docker:FanoutRedisClusterForming",
    rabbitmq: "chatapi:docker:RabbitMq",
    migrate: "chatapi:docker:Migration",
    "bootstrap-admin": "chatapi:docker:AdminBootstrap",
    api: "chatapi:docker:ApiInstances",
    worker: "chatapi:docker:Workers",
    nginx: "chatapi:docker:LoadBalancer",
    backup: "chatapi:docker:Backup",
    certbot: "chatapi:docker:Certbot",
    firewall: "chatapi:docker:HostFirewall",
    ...monitoringTypes("docker"),
  },
  kubernetes: {
    postgres: "chatapi:kubernetes:Postgres",
    redis: "chatapi:kubernetes:Redis",
    "redis-cluster": "chatapi:kubernetes:FanoutRedisCluster",
    "redis-cluster-init": "chatapi:kubernetes:FanoutRedisClusterForming",
    rabbitmq: "chatapi:kubernetes:RabbitMq",
    migrate: "chatapi:kubernetes:Migration",
    "bootstrap-admin": "chatapi:kubernetes:AdminBootstrap",
    api: "chatapi:kubernetes:Api",
    worker: "chatapi:kubernetes:Workers",
    nginx: "chatapi:kubernetes:LoadBalancer",
    backup: "chatapi:kubernetes:Backup",
    ...monitoringTypes("kubernetes"),
  },
} as const satisfies {
  docker: Record<Role, `chatapi:${string}:${string}`>;
  kubernetes: Record<KubernetesRole, `chatapi:${string}:${string}`>;
};

/** A workload of a Kubernetes plan; a Docker host's own roles there are a plan bug. */
export function kubernetesRole(workload: WorkloadPlan): KubernetesRole {
  if (workload.role === "certbot" || workload.role === "firewall")
    throw new Error(`${workload.name}: the kubernetes target has no ${workload.role} workload`);
  return workload.role;
}

/**
 * Creates one component per workload in the plan's order; `create` gets the components the
 * workload depends on (to wait for, or to read outputs of).
 */
export function createWorkloadComponents<T extends pulumi.Resource>(
  plan: DeploymentPlan,
  create: (workload: WorkloadPlan, dependencies: T[], created: Partial<Record<Role, T>>) => T,
): Partial<Record<Role, T>> {
  const created: Partial<Record<Role, T>> = {};
  for (const workload of plan.workloads) {
    const dependencies = workload.dependsOn.map((dependency) => {
      const component = created[dependency.role];
      // The plan lists workloads after what they depend on; anything else is a plan bug.
      if (!component)
        throw new Error(
          `${workload.role} depends on ${dependency.role}, which the plan does not create first`,
        );
      return component;
    });
    created[workload.role] = create(workload, dependencies, created);
  }
  return created;
}
