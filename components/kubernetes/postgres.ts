// PostgreSQL as a StatefulSet with its PVC, and its Service.
import type * as pulumi from "@pulumi/pulumi";
import { DataStore } from "./data-store";
import type { WorkloadComponentArgs } from "./workload-component";

export class Postgres extends DataStore {
  constructor(name: string, args: WorkloadComponentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:kubernetes:Postgres", name, args, opts);
  }
}
