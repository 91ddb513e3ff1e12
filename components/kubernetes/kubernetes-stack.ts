// The whole stack in one namespace, from the plan: namespace and ServiceAccount, Secrets,
// NetworkPolicies, then one component per guide item in the plan's order (data stores,
// migration Job, admin bootstrap Job, API, workers, nginx or a Gateway, backups), each
// created after what the plan says it depends on: Pulumi awaits StatefulSets' readiness and
// Jobs' completion, so the API rolls out only after the migration and bootstrap Jobs succeeded.
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, Role, WorkloadPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { AdminBootstrap } from "./admin-bootstrap";
import { Api } from "./api";
import { Backup } from "./backup";
import { Gateway } from "./gateway";
import { LoadBalancer } from "./load-balancer";
import type { ObjectRefs } from "./manifests/meta";
import { Migration } from "./migration";
import { Namespace } from "./namespace";
import { NetworkPolicies } from "./network-policies";
import { Postgres } from "./postgres";
import { RabbitMq } from "./rabbitmq";
import { Redis } from "./redis";
import { SecretObjects } from "./secrets";
import type { WorkloadComponent, WorkloadComponentArgs } from "./workload-component";
import { Workers } from "./workers";

type ComponentClass = new (
  name: string,
  args: WorkloadComponentArgs,
  opts?: pulumi.ComponentResourceOptions,
) => WorkloadComponent;

const componentFor: Record<Role, ComponentClass> = {
  postgres: Postgres,
  redis: Redis,
  rabbitmq: RabbitMq,
  migrate: Migration,
  "bootstrap-admin": AdminBootstrap,
  api: Api,
  worker: Workers,
  nginx: LoadBalancer,
  backup: Backup,
};

export interface KubernetesStackArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
}

export class KubernetesStack extends pulumi.ComponentResource {
  readonly namespace: Namespace;
  readonly secretObjects: SecretObjects;
  readonly components: Partial<Record<Role, WorkloadComponent>> = {};

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
    for (const workload of plan.workloads) {
      const after = [...base, this.secretObjects, ...this.dependencies(workload)];
      this.components[workload.role] = new componentFor[workload.role](
        workload.name,
        { plan, workload, refs, after },
        { parent: this },
      );
    }
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

  private dependencies(workload: WorkloadPlan): pulumi.Resource[] {
    return workload.dependsOn.map((dependency) => {
      const component = this.components[dependency.role];
      // The plan lists workloads after what they depend on; anything else is a plan bug.
      if (!component)
        throw new Error(
          `${workload.role} depends on ${dependency.role}, which the plan does not create first`,
        );
      return component;
    });
  }
}
