// The whole stack on one Docker engine, from the plan: networks, volumes, images, then one
// component per guide item in the plan's order (data stores, migration, admin bootstrap,
// API, workers, nginx, backups), each waiting for what the plan says it depends on.
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, Role, WorkloadPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { AdminBootstrap } from "./admin-bootstrap";
import { ApiInstances } from "./api-instances";
import { Backup } from "./backup";
import type { ContainerGroup, ContainerGroupArgs } from "./container-group";
import { Images } from "./images";
import { LoadBalancer } from "./load-balancer";
import { Migration } from "./migration";
import { Networks } from "./networks";
import { Postgres } from "./postgres";
import { RabbitMq } from "./rabbitmq";
import { Redis } from "./redis";
import { Volumes } from "./volumes";
import { Workers } from "./workers";

type GroupClass = new (
  name: string,
  args: ContainerGroupArgs,
  opts?: pulumi.ComponentResourceOptions,
) => ContainerGroup;

const componentFor: Record<Role, GroupClass> = {
  postgres: Postgres,
  redis: Redis,
  rabbitmq: RabbitMq,
  migrate: Migration,
  "bootstrap-admin": AdminBootstrap,
  api: ApiInstances,
  worker: Workers,
  nginx: LoadBalancer,
  backup: Backup,
};

export interface DockerStackArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
  /** Repository root: the build context of app/Dockerfile. */
  projectDir: string;
}

export class DockerStack extends pulumi.ComponentResource {
  readonly groups: Partial<Record<Role, ContainerGroup>> = {};
  readonly networks: Networks;

  constructor(name: string, args: DockerStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:Stack", name, {}, opts);
    const { plan } = args;
    this.networks = new Networks(`${plan.prefix}-networks`, { plan }, { parent: this });
    const volumes = new Volumes(`${plan.prefix}-volumes`, { plan }, { parent: this });
    const images = new Images(
      `${plan.prefix}-images`,
      { plan, projectDir: args.projectDir },
      { parent: this },
    );

    for (const workload of plan.workloads) {
      this.groups[workload.role] = new componentFor[workload.role](
        workload.name,
        {
          plan,
          workload,
          image: images.refs[workload.image],
          networks: this.networks.names,
          volumes: volumes.sources,
          secrets: args.secrets,
          generated: args.generated,
          labels: this.gateLabels(plan, workload),
        },
        { parent: this, dependsOn: this.dependencies(workload) },
      );
    }
    this.registerOutputs({});
  }

  private dependencies(workload: WorkloadPlan): pulumi.Resource[] {
    return workload.dependsOn.map((dependency) => {
      const group = this.groups[dependency.role];
      // The plan lists workloads after what they depend on; anything else is a plan bug.
      if (!group)
        throw new Error(
          `${workload.role} depends on ${dependency.role}, which the plan does not create first`,
        );
      return group;
    });
  }

  /**
   * Labels that carry the outcome of what a workload waited for: a job that failed turns its
   * label into an error, so the containers that needed it are not created. nginx resolves
   * its static upstream names once, at start: it carries the API container IDs so it is
   * re-created (and re-resolves) whenever an API container is.
   */
  private gateLabels(plan: DeploymentPlan, workload: WorkloadPlan): Record<string, pulumi.Input<string>> {
    const labels: Record<string, pulumi.Input<string>> = {};
    for (const dependency of workload.dependsOn) {
      const completion = this.groups[dependency.role]?.completion;
      if (dependency.condition === "completed" && completion)
        labels[`chatapi.after.${dependency.role}`] = completion;
    }
    if (workload.role === "nginx" && plan.loadBalancer.upstream.kind === "static") {
      const api = this.groups.api?.containers ?? [];
      labels["chatapi.upstream-containers"] = pulumi.all(api.map((c) => c.id)).apply((ids) => ids.join(","));
    }
    return labels;
  }
}
