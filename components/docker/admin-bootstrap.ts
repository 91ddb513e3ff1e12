// The idempotent admin-client bootstrap (`chatapi create-client --admin --api-key-file ...`), after the migration.
import type * as pulumi from "@pulumi/pulumi";
import { ContainerGroup, type ContainerGroupArgs } from "./container-group";

export class AdminBootstrap extends ContainerGroup {
  constructor(name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:AdminBootstrap", name, args, opts);
  }
}
