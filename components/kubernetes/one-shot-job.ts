// A Job that runs once per deployment (and again when its spec changes, e.g. a new image).
// Pulumi awaits its completion; what depends on it is created only afterwards. The name is
// fixed, so a replacement deletes the old Job first.
import * as k8s from "@pulumi/kubernetes";
import { job } from "./manifests/workloads";
import { WorkloadComponent, type WorkloadComponentParams } from "./workload-component";

export class OneShotJob extends WorkloadComponent {
  readonly job: k8s.batch.v1.Job;

  constructor(...[type, name, args, opts]: WorkloadComponentParams) {
    super(type, name, opts);
    this.job = new k8s.batch.v1.Job(
      name,
      job(args.plan, args.workload, args.refs),
      this.childOptions(args, { deleteBeforeReplace: true }),
    );
    this.registerOutputs({ job: this.job.metadata.name });
  }
}
