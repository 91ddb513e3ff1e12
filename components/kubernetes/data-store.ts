// A data store in the stack: its Service (named as in the connection URLs) and a one-pod
// StatefulSet whose data lives on a claim from volumeClaimTemplates (size and StorageClass
// from config, kept when the set is deleted). Pulumi awaits the pod's readiness.
import * as k8s from "@pulumi/kubernetes";
import { objectNames } from "./manifests/meta";
import { dataStoreService } from "./manifests/services";
import { statefulSet } from "./manifests/workloads";
import { WorkloadComponent, type WorkloadComponentParams } from "./workload-component";

export class DataStore extends WorkloadComponent {
  readonly service: k8s.core.v1.Service;
  readonly statefulSet: k8s.apps.v1.StatefulSet;

  constructor(...[type, name, args, opts]: WorkloadComponentParams) {
    super(type, name, opts);
    const { plan, workload, refs } = args;
    const role = workload.role as "postgres" | "redis" | "rabbitmq" | "redis-cluster";
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      dataStoreService(plan, workload),
      this.childOptions(args),
    );
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      name,
      statefulSet(plan, workload, refs, objectNames(plan).dataStoreService(role)),
      this.childOptions(args, { dependsOn: [...args.after, this.service] }),
    );
    this.registerOutputs({ service: this.service.metadata.name });
  }
}
