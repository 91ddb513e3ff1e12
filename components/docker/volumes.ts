// Shared volumes: data stores' data, backups (or a host folder), kept when the stack is
// destroyed (retainOnDelete) so `pulumi destroy` never deletes data.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";

export type VolumeSources = Record<string, { source: pulumi.Input<string>; bind: boolean }>;

export class Volumes extends pulumi.ComponentResource {
  readonly sources: VolumeSources = {};

  constructor(name: string, args: { plan: DeploymentPlan }, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:Volumes", name, {}, opts);
    for (const volume of args.plan.volumes) {
      if (volume.perInstance) continue; // created with each container
      if (volume.hostPath) {
        this.sources[volume.name] = { source: volume.hostPath, bind: true };
        continue;
      }
      const created = new docker.Volume(
        volume.resourceName,
        {
          name: volume.resourceName,
          labels: [
            { label: "chatapi.stack", value: args.plan.stack },
            { label: "chatapi.purpose", value: volume.purpose },
          ],
        },
        { parent: this, retainOnDelete: volume.retain },
      );
      this.sources[volume.name] = { source: created.name, bind: false };
    }
    this.registerOutputs({});
  }
}
