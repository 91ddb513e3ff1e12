// What both targets do alike with the plan's workloads: each becomes one component, named in
// the Pulumi graph by its guide item's type token, created in the plan's order after the
// components it depends on. The tokens are part of every child's URN: a changed token makes
// `pulumi up` replace the stack's resources, so they stay as they are (or move with aliases).
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, Role, WorkloadPlan } from "./plan/types";

export const workloadComponentTypes = {
  docker: {
    postgres: "chatapi:docker:Postgres",
    redis: "chatapi:docker:Redis",
    rabbitmq: "chatapi:docker:RabbitMq",
    migrate: "chatapi:docker:Migration",
    "bootstrap-admin": "chatapi:docker:AdminBootstrap",
    api: "chatapi:docker:ApiInstances",
    worker: "chatapi:docker:Workers",
    nginx: "chatapi:docker:LoadBalancer",
    backup: "chatapi:docker:Backup",
  },
  kubernetes: {
    postgres: "chatapi:kubernetes:Postgres",
    redis: "chatapi:kubernetes:Redis",
    rabbitmq: "chatapi:kubernetes:RabbitMq",
    migrate: "chatapi:kubernetes:Migration",
    "bootstrap-admin": "chatapi:kubernetes:AdminBootstrap",
    api: "chatapi:kubernetes:Api",
    worker: "chatapi:kubernetes:Workers",
    nginx: "chatapi:kubernetes:LoadBalancer",
    backup: "chatapi:kubernetes:Backup",
  },
} as const satisfies Record<DeploymentPlan["target"], Record<Role, `chatapi:${string}:${string}`>>;

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
