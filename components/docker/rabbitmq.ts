// RabbitMQ: a container with its node data on a volume, credentials from a conf.d file.
import type * as pulumi from "@pulumi/pulumi";
import { ContainerGroup, type ContainerGroupArgs } from "./container-group";

export class RabbitMq extends ContainerGroup {
  constructor(name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:RabbitMq", name, args, opts);
  }
}
