// The whole stack on one Docker engine, from the plan: networks, volumes, images, then one
// component per guide item in the plan's order (data stores, migration, admin bootstrap,
// API, workers, nginx, backups), each waiting for what the plan says it depends on. The app's
// containers are a release's (../containers/release.ts): their names carry the release id,
// so a new image or app config gives new resources, created beside the old ones; the release
// switch points nginx at them once they are healthy; the old ones are deleted last.
import * as pulumi from "@pulumi/pulumi";
import { containerSpecs } from "../containers/container-spec";
import { isReleaseWorkload, releaseId, releaseServersFile } from "../containers/release";
import { NGINX_CONFIG_DIR } from "../plan/workloads/nginx";
import type { DeploymentPlan, Role, WorkloadPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { createWorkloadComponents, workloadComponentTypes } from "../workload-components";
import { ContainerGroup } from "./container-group";
import type { DockerEngine } from "./docker-cli";
import { Images } from "./images";
import { Networks } from "./networks";
import { ReleaseSwitchResource } from "./release-switch-resource";
import { Volumes } from "./volumes";

export interface DockerStackArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
  /** Repository root: the build context of app/Dockerfile. */
  projectDir: string;
  /** The engine, for the steps the docker CLI takes (./engine.ts). */
  engine: pulumi.Input<DockerEngine>;
}

export class DockerStack extends pulumi.ComponentResource {
  readonly groups: Partial<Record<Role, ContainerGroup>>;
  readonly networks: Networks;
  /** The app's release: known before anything is created (the image reference, not its ID). */
  readonly release: string;
  /** Points nginx at the release (absent when the plan's upstream does not switch). */
  releaseSwitch: ReleaseSwitchResource | undefined;

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

    this.release = releaseId(plan, { image: plan.images.app.ref });
    const containers = containerSpecs(plan, this.release);
    this.groups = createWorkloadComponents<ContainerGroup>(plan, (workload, dependencies, groups) => {
      // The stack's own containers never wait for a release's: nginx waits for the switch.
      const waitFor: pulumi.Resource[] = isReleaseWorkload(workload)
        ? dependencies
        : workload.dependsOn.flatMap((d, i) => (isReleaseRole(plan, d.role) ? [] : [dependencies[i]!]));
      if (workload.role === "nginx" && plan.loadBalancer.upstream.kind === "release") {
        const api = groups.api;
        if (!api)
          throw new Error("nginx switches between releases of the API, which the plan does not create");
        const volume = volumes.sources["nginx-release"];
        if (!volume) throw new Error("the plan has no nginx-release volume");
        const releaseSwitch = new ReleaseSwitchResource(
          `${plan.prefix}-release-switch`,
          {
            engine: args.engine,
            volume: volume.source,
            helperImage: images.refs.nginx,
            file: releaseServersFile(plan, this.release),
            nginx: { container: workload.name, config: `${NGINX_CONFIG_DIR}/nginx.conf` },
            release: this.release,
          },
          // After every API instance of the release is created, i.e. healthy (`wait`).
          { parent: this, dependsOn: api.containers },
        );
        this.releaseSwitch = releaseSwitch;
        waitFor.push(releaseSwitch);
      }
      return new ContainerGroup(
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
          labels: gateLabels(workload, groups),
        },
        { parent: this, dependsOn: waitFor },
      );
    });
    this.registerOutputs({ release: this.release });
  }
}

const isReleaseRole = (plan: DeploymentPlan, role: Role) =>
  plan.workloads.some((w) => w.role === role && isReleaseWorkload(w));

/**
 * Labels that carry the outcome of what a workload waited for: a job that failed turns its
 * label into an error, so the containers that needed it are not created. (nginx carries none
 * of the API's: the release switch reloads it, so a new release never re-creates it.)
 */
function gateLabels(
  workload: WorkloadPlan,
  groups: Partial<Record<Role, ContainerGroup>>,
): Record<string, pulumi.Input<string>> {
  const labels: Record<string, pulumi.Input<string>> = {};
  for (const dependency of workload.dependsOn) {
    const completion = groups[dependency.role]?.completion;
    if (dependency.condition === "completed" && completion)
      labels[`chatapi.after.${dependency.role}`] = completion;
  }
  return labels;
}
