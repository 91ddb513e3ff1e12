// The whole stack in one namespace, from the plan: namespace and ServiceAccount, Secrets,
// NetworkPolicies, then one component per guide item in the plan's order (data stores,
// migration Job, admin bootstrap Job, API, workers, nginx or a Gateway, backups), each
// created after what the plan says it depends on: Pulumi awaits StatefulSets' readiness and
// Jobs' completion, so the API rolls out only after the migration and bootstrap Jobs succeeded.
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, KubernetesRole, Role } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { createWorkloadComponents, kubernetesRole, workloadComponentTypes } from "../workload-components";
import { Api } from "./api";
import { Backup } from "./backup";
import { DataStore } from "./data-store";
import { Gateway } from "./gateway";
import { LoadBalancer } from "./load-balancer";
import { Monitoring } from "./monitoring";
import { DockerOnly, MonitoringService } from "./monitoring-service";
import type { ObjectRefs } from "./manifests/meta";
import { Namespace } from "./namespace";
import { NetworkPolicies } from "./network-policies";
import { OneShotJob } from "./one-shot-job";
import { SecretObjects } from "./secrets";
import type { WorkloadComponent, WorkloadComponentParams } from "./workload-component";
import { Workers } from "./workers";

type ComponentClass = new (...params: WorkloadComponentParams) => WorkloadComponent;

/** The Kubernetes objects a workload becomes, by role. */
const componentFor: Record<KubernetesRole, ComponentClass> = {
  postgres: DataStore,
  redis: DataStore,
  "redis-cluster": DataStore,
  "redis-cluster-init": OneShotJob,
  rabbitmq: DataStore,
  migrate: OneShotJob,
  "bootstrap-admin": OneShotJob,
  api: Api,
  worker: Workers,
  nginx: LoadBalancer,
  backup: Backup,
  "blackbox-exporter": MonitoringService,
  pushgateway: MonitoringService,
  prometheus: DockerOnly,
  alertmanager: DockerOnly,
  "postgres-exporter": DockerOnly,
  "redis-exporter": DockerOnly,
  "nginx-exporter": DockerOnly,
  "node-exporter": DockerOnly,
};

export interface KubernetesStackArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
}

export class KubernetesStack extends pulumi.ComponentResource {
  readonly namespace: Namespace;
  readonly secretObjects: SecretObjects;
  readonly components: Partial<Record<Role, WorkloadComponent>>;

  constructor(name: string, args: KubernetesStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:kubernetes:Stack", name, {}, opts);
    const { plan } = args;
    this.namespace = new Namespace(`${plan.prefix}-namespace`, { plan }, { parent: this });
    const base = [this.namespace];
    this.secretObjects = new SecretObjects(
      `${plan.prefix}-secret-objects`,
      { plan, secrets: args.secrets, after: base },
      { parent: this },
    );
    new NetworkPolicies(`${plan.prefix}-network-policies`, { plan, after: base }, { parent: this });

    const refs: ObjectRefs = {
      appSecret: this.secretObjects.appSecretName,
      tlsSecret: this.secretObjects.tlsSecretName,
      configMaps: {},
      generated: args.generated,
    };
    this.components = createWorkloadComponents<WorkloadComponent>(
      plan,
      (workload, dependencies) =>
        new componentFor[kubernetesRole(workload)](
          workloadComponentTypes.kubernetes[kubernetesRole(workload)],
          workload.name,
          { plan, workload, refs, after: [...base, this.secretObjects, ...dependencies] },
          { parent: this },
        ),
    );
    if (plan.monitoring.enabled)
      new Monitoring(`${plan.prefix}-monitoring`, { plan, after: base }, { parent: this });
    if (plan.kubernetes.gatewayClassName) {
      const api = this.components.api;
      new Gateway(
        `${plan.prefix}-gateway`,
        { plan, tlsSecret: refs.tlsSecret, after: [...base, this.secretObjects, ...(api ? [api] : [])] },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
