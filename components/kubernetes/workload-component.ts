// Base of the components that turn one plan workload into Kubernetes objects. Each is created
// with its guide item's type token (../workload-components.ts), so the graph reads like the
// guide. `after` holds what the workload waits for (namespace, secrets, data stores,
// jobs); every child depends on it, so a Deployment is created only after the Jobs completed.
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, WorkloadPlan } from "../plan/types";
import type { ObjectRefs } from "./manifests/meta";

export interface WorkloadComponentArgs {
  plan: DeploymentPlan;
  workload: WorkloadPlan;
  refs: ObjectRefs;
  after: pulumi.Resource[];
}

/** What each workload component's constructor takes: its type token (../workload-components.ts) first. */
export type WorkloadComponentParams = [
  type: string,
  name: string,
  args: WorkloadComponentArgs,
  opts?: pulumi.ComponentResourceOptions,
];

export abstract class WorkloadComponent extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
  }

  protected childOptions(args: WorkloadComponentArgs, extra: pulumi.CustomResourceOptions = {}) {
    return { parent: this, dependsOn: args.after, ...extra };
  }
}
