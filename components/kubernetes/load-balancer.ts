// The guide's nginx: its config in an auto-named ConfigMap (a new nginx.conf gets a new name,
// so the Deployment's pods roll), the Deployment, the Service clients reach (LoadBalancer by
// default) and a PodDisruptionBudget.
import * as k8s from "@pulumi/kubernetes";
import { configMap } from "./manifests/namespace";
import { podDisruptionBudget } from "./manifests/scaling";
import { nginxService } from "./manifests/services";
import { deployment } from "./manifests/workloads";
import { WorkloadComponent, type WorkloadComponentParams } from "./workload-component";

export class LoadBalancer extends WorkloadComponent {
  readonly service: k8s.core.v1.Service;
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(...[type, name, args, opts]: WorkloadComponentParams) {
    super(type, name, opts);
    const { plan, workload } = args;
    // No metadata.name: Pulumi names it <name>-config-<suffix> and replaces it when the data changes.
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      configMap(plan, workload, undefined),
      this.childOptions(args),
    );
    const refs = {
      ...args.refs,
      configMaps: { ...args.refs.configMaps, [workload.role]: config.metadata.name },
    };
    this.deployment = new k8s.apps.v1.Deployment(
      name,
      deployment(plan, workload, refs, { autoscaled: false }),
      this.childOptions(args),
    );
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      nginxService(plan, workload),
      this.childOptions(args),
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      podDisruptionBudget(plan, workload),
      this.childOptions(args),
    );
    this.registerOutputs({ service: this.service.metadata.name });
  }
}
