// A monitoring process the cluster's Prometheus reaches through a Service (monitoring.enabled):
// the blackbox exporter and the Pushgateway, each a one-pod Deployment behind a ClusterIP
// Service (its configuration, if any, in an auto-named ConfigMap, as nginx's). Roles that exist
// only on a Docker host (Prometheus itself, the exporters that run as sidecars on Kubernetes)
// have no Kubernetes component.
import * as k8s from "@pulumi/kubernetes";
import { configMapData } from "./manifests/files";
import { configMap } from "./manifests/namespace";
import { monitoringService } from "./manifests/services";
import { deployment } from "./manifests/workloads";
import { WorkloadComponent, type WorkloadComponentParams } from "./workload-component";

export class MonitoringService extends WorkloadComponent {
  constructor(...[type, name, args, opts]: WorkloadComponentParams) {
    super(type, name, opts);
    const { plan, workload } = args;
    let refs = args.refs;
    if (Object.keys(configMapData(workload)).length > 0) {
      const config = new k8s.core.v1.ConfigMap(
        `${name}-config`,
        configMap(plan, workload, undefined),
        this.childOptions(args),
      );
      refs = { ...refs, configMaps: { ...refs.configMaps, [workload.role]: config.metadata.name } };
    }
    new k8s.apps.v1.Deployment(
      name,
      deployment(plan, workload, refs, { autoscaled: false }),
      this.childOptions(args),
    );
    new k8s.core.v1.Service(`${name}-service`, monitoringService(plan, workload), this.childOptions(args));
    this.registerOutputs({});
  }
}

export class DockerOnly extends WorkloadComponent {
  constructor(...[type, name, args]: WorkloadComponentParams) {
    super(type, name);
    throw new Error(`${args.workload.role} runs on a Docker host only; a Kubernetes plan has no ${name}`);
  }
}
