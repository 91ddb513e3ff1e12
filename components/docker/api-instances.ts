// The N API containers, each with its own network alias (api-1, api-2, ...) for nginx's upstreams.
import type * as pulumi from "@pulumi/pulumi";
import { ContainerGroup, type ContainerGroupArgs } from "./container-group";

export class ApiInstances extends ContainerGroup {
  constructor(name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:ApiInstances", name, args, opts);
  }
}
