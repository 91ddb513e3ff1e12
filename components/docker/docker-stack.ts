// The whole stack on one Docker engine, from the plan: networks, volumes, images, then one
// component per guide item in the plan's order (data stores, migration, admin bootstrap,
// API, workers, nginx, backups), each waiting for what the plan says it depends on.
import * as pulumi from "@pulumi/pulumi";
import { containerSpecs } from "../containers/container-spec";
import type { DeploymentPlan, Role, WorkloadPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { createWorkloadComponents, workloadComponentTypes } from "../workload-components";
import { ContainerGroup } from "./container-group";
import { Images } from "./images";
import { Networks } from "./networks";
import { Volumes } from "./volumes";

export interface DockerStackArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
  /** Repository root: the build context of app/Dockerfile. */
  projectDir: string;
}

export class DockerStack extends pulumi.ComponentResource {
  readonly groups: Partial<Record<Role, ContainerGroup>>;
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

    const containers = containerSpecs(plan);
    this.groups = createWorkloadComponents<ContainerGroup>(
      plan,
      (workload, dependencies, groups) =>
        new ContainerGroup(
          workloadComponentTypes.docker[workload.role],
          workload.name,
          {
            plan,
            workload,
            containers: containers.filter((c) => c.role === workload.role),
            image: images.refs[workload.image],
            networks: this.networks.names,
            volumes: volumes.sources,
            secrets: args.secrets,
            generated: args.generated,
            labels: gateLabels(plan, workload, groups),
          },
          { parent: this, dependsOn: dependencies },
        ),
    );
    this.registerOutputs({});
  }
}

/**
 * Labels that carry the outcome of what a workload waited for: a job that failed turns its
 * label into an error, so the containers that needed it are not created. nginx resolves its
 * static upstream names once, at start: it carries the API container IDs so it is re-created
 * (and re-resolves) whenever an API container is.
 */
function gateLabels(
  plan: DeploymentPlan,
  workload: WorkloadPlan,
  groups: Partial<Record<Role, ContainerGroup>>,
): Record<string, pulumi.Input<string>> {
  const labels: Record<string, pulumi.Input<string>> = {};
  for (const dependency of workload.dependsOn) {
    const completion = groups[dependency.role]?.completion;
    if (dependency.condition === "completed" && completion)
      labels[`chatapi.after.${dependency.role}`] = completion;
  }
  if (workload.role === "nginx" && plan.loadBalancer.upstream.kind === "static") {
    const api = groups.api?.containers ?? [];
    labels["chatapi.upstream-containers"] = pulumi.all(api.map((c) => c.id)).apply((ids) => ids.join(","));
  }
  return labels;
}
