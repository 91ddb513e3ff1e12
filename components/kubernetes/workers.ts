// The workers: a Deployment (fixed replicas) and its PodDisruptionBudget.
import * as k8s from "@pulumi/kubernetes";
import { podDisruptionBudget } from "./manifests/scaling";
import { deployment } from "./manifests/workloads";
import { WorkloadComponent, type WorkloadComponentParams } from "./workload-component";

export class Workers extends WorkloadComponent {
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(...[type, name, args, opts]: WorkloadComponentParams) {
    super(type, name, opts);
    const { plan, workload, refs } = args;
    this.deployment = new k8s.apps.v1.Deployment(
      name,
      deployment(plan, workload, refs, { autoscaled: false }),
      this.childOptions(args),
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      podDisruptionBudget(plan, workload),
      this.childOptions(args),
    );
    this.registerOutputs({ deployment: this.deployment.metadata.name });
  }
}
