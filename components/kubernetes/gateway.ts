// Gateway API in place of nginx (kubernetes.gatewayClassName): the Gateway and its HTTPRoutes.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";
import { apiRoute, gateway, redirectRoute } from "./manifests/gateway";

export class Gateway extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: { plan: DeploymentPlan; tlsSecret: pulumi.Input<string>; after: pulumi.Resource[] },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("chatapi:kubernetes:Gateway", name, {}, opts);
    const { plan } = args;
    const child = { parent: this, dependsOn: args.after };
    const gw = new k8s.apiextensions.CustomResource(name, gateway(plan, args.tlsSecret), child);
    const routes = { ...child, dependsOn: [...args.after, gw] };
    new k8s.apiextensions.CustomResource(`${plan.prefix}-api-route`, apiRoute(plan), routes);
    new k8s.apiextensions.CustomResource(`${plan.prefix}-https-redirect`, redirectRoute(plan), routes);
    this.registerOutputs({});
  }
}
