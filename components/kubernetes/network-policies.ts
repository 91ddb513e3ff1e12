// Default-deny NetworkPolicies with DNS and exactly the plan's flows allowed.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";
import { nameOf } from "./manifests/meta";
import { networkPolicies } from "./manifests/network-policies";

export class NetworkPolicies extends pulumi.ComponentResource {
  readonly policies: k8s.networking.v1.NetworkPolicy[];

  constructor(
    name: string,
    args: { plan: DeploymentPlan; after: pulumi.Resource[] },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("chatapi:kubernetes:NetworkPolicies", name, {}, opts);
    this.policies = networkPolicies(args.plan).map(
      (policy) =>
        new k8s.networking.v1.NetworkPolicy(nameOf(policy), policy, {
          parent: this,
          dependsOn: args.after,
        }),
    );
    this.registerOutputs({});
  }
}
