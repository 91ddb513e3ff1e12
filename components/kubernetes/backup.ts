// Scheduled backups: the backups PVC (kept when the stack is destroyed) and the CronJob that
// runs `chatapi backup` on the plan's schedule.
import * as k8s from "@pulumi/kubernetes";
import { cronJob, persistentVolumeClaim } from "./manifests/workloads";
import { WorkloadComponent, type WorkloadComponentParams } from "./workload-component";

export class Backup extends WorkloadComponent {
  readonly cronJob: k8s.batch.v1.CronJob;

  constructor(...[type, name, args, opts]: WorkloadComponentParams) {
    super(type, name, opts);
    const { plan, workload, refs } = args;
    const claims = workload.mounts
      .map((mount) => plan.volumes.find((v) => v.name === mount.volume))
      .filter((v) => v !== undefined && !v.perInstance)
      .map(
        (v) =>
          new k8s.core.v1.PersistentVolumeClaim(
            v!.resourceName,
            persistentVolumeClaim(plan, v!.name),
            this.childOptions(args, { retainOnDelete: v!.retain }),
          ),
      );
    this.cronJob = new k8s.batch.v1.CronJob(
      name,
      cronJob(plan, workload, refs),
      this.childOptions(args, { dependsOn: [...args.after, ...claims] }),
    );
    this.registerOutputs({ cronJob: this.cronJob.metadata.name });
  }
}
