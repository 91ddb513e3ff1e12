// `chatapi migrate` as a Job that completes before the API and workers roll out.
import type * as pulumi from "@pulumi/pulumi";
import { OneShotJob } from "./one-shot-job";
import type { WorkloadComponentArgs } from "./workload-component";

export class Migration extends OneShotJob {
  constructor(name: string, args: WorkloadComponentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:kubernetes:Migration", name, args, opts);
  }
}
