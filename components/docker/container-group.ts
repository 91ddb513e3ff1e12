// The Docker form of one plan workload: a container per instance, plus, for an instance
// with files, the volumes that hold them and the never-started container that fills them. Its
// type token is the guide item's (../workload-components.ts), so the graph reads like the guide.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerSpec } from "../containers/container-spec";
import type { DeploymentPlan, NetworkName, WorkloadPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { containerArgs, fileFolders, filesContainerArgs, filesContainerName } from "./container-args";

export interface ContainerGroupArgs {
  plan: DeploymentPlan;
  workload: WorkloadPlan;
  /** The workload's containers (containerSpecs of the plan). */
  containers: ContainerSpec[];
  image: pulumi.Input<string>;
  networks: Partial<Record<NetworkName, pulumi.Input<string>>>;
  /** Shared volumes by plan name (named volumes, or host folders for bind mounts). */
  volumes: Record<string, { source: pulumi.Input<string>; bind: boolean }>;
  secrets: SecretValues;
  generated: Partial<GeneratedValues>;
  /** Labels recording what the containers waited for (a failed job fails them). */
  labels?: Record<string, pulumi.Input<string>>;
}

const slug = (path: string) => path.replace(/^\//, "").replace(/[^A-Za-z0-9]+/g, "-");

export class ContainerGroup extends pulumi.ComponentResource {
  readonly containers: docker.Container[] = [];
  /** Jobs: resolves to "succeeded" once every container exited 0, fails the deployment otherwise. */
  readonly completion?: pulumi.Output<string>;

  constructor(type: string, name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    const { plan, workload } = args;
    for (const spec of args.containers) {
      const fileVolumes: Record<string, pulumi.Output<string>> = {};
      for (const folder of fileFolders(spec)) {
        fileVolumes[folder] = new docker.Volume(
          `${spec.name}-${slug(folder)}`,
          {
            name: `${spec.name}-${slug(folder)}`,
            labels: [{ label: "chatapi.stack", value: plan.stack }],
          },
          { parent: this },
        ).name;
      }
      const volumes = { ...args.volumes };
      for (const volume of spec.volumes.filter((v) => v.perInstance)) {
        volumes[volume.volume] = {
          source: new docker.Volume(volume.name, { name: volume.name }, { parent: this }).name,
          bind: false,
        };
      }
      const inputs = { ...args, spec, stack: plan.stack, volumes, fileVolumes };
      // Fixed container names: the old container must go before its replacement starts.
      const files =
        spec.files.length > 0
          ? new docker.Container(filesContainerName(spec), filesContainerArgs(inputs), {
              parent: this,
              deleteBeforeReplace: true,
            })
          : undefined;
      // New files (a rotated secret, a new nginx.conf) replace the files container; its ID in a
      // label replaces the workload container too, so the process starts with them.
      const labels = files ? { ...args.labels, "chatapi.files": files.id } : args.labels;
      this.containers.push(
        new docker.Container(spec.name, containerArgs({ ...inputs, ...(labels ? { labels } : {}) }), {
          parent: this,
          deleteBeforeReplace: true,
          ...(files ? { dependsOn: [files] } : {}),
        }),
      );
    }

    if (workload.kind === "job") {
      this.completion = pulumi.all(this.containers.map((c) => c.exitCode)).apply((codes) => {
        codes.forEach((code, i) => {
          if (code !== 0) {
            const container = args.containers[i]!.name;
            throw new Error(
              `${container} exited with ${code ?? "no exit code"}; see: docker logs ${container}. Dependent containers were not started.`,
            );
          }
        });
        return "succeeded";
      });
    }
    this.registerOutputs({ containers: this.containers.map((c) => c.name) });
  }
}
