// Redis: a container with its append-only file on a volume, password from a config file.
import type * as pulumi from "@pulumi/pulumi";
import { ContainerGroup, type ContainerGroupArgs } from "./container-group";

export class Redis extends ContainerGroup {
  constructor(name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:Redis", name, args, opts);
  }
}
