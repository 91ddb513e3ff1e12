// nginx: the only container with published ports; TLS, sticky WebSocket upstream, HTTP to HTTPS.
import type * as pulumi from "@pulumi/pulumi";
import { ContainerGroup, type ContainerGroupArgs } from "./container-group";

export class LoadBalancer extends ContainerGroup {
  constructor(name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:LoadBalancer", name, args, opts);
  }
}
