// `chatapi create-client --admin --api-key-file ...` as a Job (idempotent by e-mail) that
// completes before the API rolls out.
import type * as pulumi from "@pulumi/pulumi";
import { OneShotJob } from "./one-shot-job";
import type { WorkloadComponentArgs } from "./workload-component";

export class AdminBootstrap extends OneShotJob {
  constructor(name: string, args: WorkloadComponentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:kubernetes:AdminBootstrap", name, args, opts);
  }
}
