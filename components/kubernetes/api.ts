// The API: Deployment (no replicas field when the HPA owns the count), a ClusterIP Service (for
// a Gateway), a headless Service (nginx's upstream, one record per ready pod), the
// PodDisruptionBudget and the HorizontalPodAutoscaler.
import * as k8s from "@pulumi/kubernetes";
import { horizontalPodAutoscaler, podDisruptionBudget } from "./manifests/scaling";
import { apiHeadlessService, apiService } from "./manifests/services";
import { deployment } from "./manifests/workloads";
import { WorkloadComponent, type WorkloadComponentParams } from "./workload-component";

export class Api extends WorkloadComponent {
  readonly deployment: k8s.apps.v1.Deployment;
  readonly headlessService: k8s.core.v1.Service;
  readonly autoscaler?: k8s.autoscaling.v2.HorizontalPodAutoscaler;

  constructor(...[type, name, args, opts]: WorkloadComponentParams) {
    super(type, name, opts);
    const { plan, workload, refs } = args;
    const scaling = plan.autoscaling?.role === "api" ? plan.autoscaling : undefined;
    this.deployment = new k8s.apps.v1.Deployment(
      name,
      deployment(plan, workload, refs, { autoscaled: scaling !== undefined }),
      this.childOptions(args),
    );
    new k8s.core.v1.Service(`${name}-service`, apiService(plan, workload), this.childOptions(args));
    this.headlessService = new k8s.core.v1.Service(
      `${name}-headless`,
      apiHeadlessService(plan, workload),
      this.childOptions(args),
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      podDisruptionBudget(plan, workload),
      this.childOptions(args),
    );
    if (scaling) {
      this.autoscaler = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        horizontalPodAutoscaler(plan, workload, scaling),
        this.childOptions(args, { dependsOn: [this.deployment] }),
      );
    }
    this.registerOutputs({ deployment: this.deployment.metadata.name });
  }
}
