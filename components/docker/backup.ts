// The scheduled backup container (`chatapi backup --schedule ...`) writing to the backups volume.
import type * as pulumi from "@pulumi/pulumi";
import { ContainerGroup, type ContainerGroupArgs } from "./container-group";

export class Backup extends ContainerGroup {
  constructor(name: string, args: ContainerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:Backup", name, args, opts);
  }
}
