// PostgreSQL: a container with its data on a volume, on the internal backend network only.
import type * as pulumi from "@pulumi/pulumi";
import { ContainerGroup, type ContainerGroupArgs } from "./container-group";

export class Postgres extends ContainerGroup {
  constructor(name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:Postgres", name, args, opts);
  }
}
