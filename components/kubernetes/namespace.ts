// The stack's namespace (Pod Security "restricted" enforced) and the ServiceAccount its pods
// run as (no API token mounted).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";
import { namespace, serviceAccount } from "./manifests/namespace";

export class Namespace extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;

  constructor(name: string, args: { plan: DeploymentPlan }, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:kubernetes:Namespace", name, {}, opts);
    this.namespace = new k8s.core.v1.Namespace(name, namespace(args.plan), { parent: this });
    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${args.plan.prefix}-service-account`,
      serviceAccount(args.plan),
      {
        parent: this,
        dependsOn: [this.namespace],
      },
    );
    this.registerOutputs({ namespace: this.namespace.metadata.name });
  }
}
