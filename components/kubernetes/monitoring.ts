// The Prometheus Operator's objects for the stack (monitoring.enabled): PodMonitors, the Probe,
// the PrometheusRule (they need the operator's CRDs), and the Grafana dashboard ConfigMap.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";
import { monitoringObjects } from "./manifests/monitoring";

export class Monitoring extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: { plan: DeploymentPlan; after: pulumi.Resource[] },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("chatapi:kubernetes:Monitoring", name, {}, opts);
    const child = { parent: this, dependsOn: args.after };
    for (const object of monitoringObjects(args.plan)) {
      const resourceName = `${object.metadata.name}-${object.kind.toLowerCase()}`;
      if (object.kind === "ConfigMap")
        new k8s.core.v1.ConfigMap(resourceName, object as k8s.core.v1.ConfigMapArgs, child);
      else
        new k8s.apiextensions.CustomResource(
          resourceName,
          object as k8s.apiextensions.CustomResourceArgs,
          child,
        );
    }
    this.registerOutputs({});
  }
}
