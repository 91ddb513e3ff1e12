// The stack's private networks: data stores sit on an internal network (no route out, no
// published ports, no address of the host on it); only nginx is on the network its ports are
// published from.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, NetworkName } from "../plan/types";

/** Bridge option: the host gets no address on the network (NetworkPlan.isolatedFromHost). */
export const hostIsolation = { "com.docker.network.bridge.inhibit_ipv4": "true" } as const;

export class Networks extends pulumi.ComponentResource {
  readonly names: Partial<Record<NetworkName, pulumi.Output<string>>> = {};

  constructor(name: string, args: { plan: DeploymentPlan }, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:Networks", name, {}, opts);
    for (const network of args.plan.networks) {
      this.names[network.name] = new docker.Network(
        network.resourceName,
        {
          name: network.resourceName,
          driver: "bridge",
          internal: network.internal,
          ...(network.isolatedFromHost ? { options: hostIsolation } : {}),
          labels: [
            { label: "chatapi.stack", value: args.plan.stack },
            { label: "chatapi.purpose", value: network.purpose },
          ],
        },
        { parent: this },
      ).name;
    }
    this.registerOutputs({ names: this.names });
  }
}
