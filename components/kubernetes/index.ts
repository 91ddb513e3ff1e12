// The Kubernetes target: an explicit provider for the configured cluster (kubeconfig file and
// context from config, else the usual kubeconfig lookup), or, in render mode, for a folder the
// provider writes every object into as YAML (no cluster needed), and the stack on it.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { KubernetesStack } from "./kubernetes-stack";

export interface KubernetesTargetArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
  parent?: pulumi.Resource;
}

export function providerArgs(plan: DeploymentPlan): k8s.ProviderArgs {
  const { context, kubeconfig, renderYamlToDirectory } = plan.kubernetes.provider;
  return {
    ...(renderYamlToDirectory ? { renderYamlToDirectory } : {}),
    ...(context ? { context } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
  };
}

export function deployKubernetes(args: KubernetesTargetArgs): KubernetesStack {
  const { plan } = args;
  const parent = args.parent ? { parent: args.parent } : {};
  const provider = new k8s.Provider(`${plan.prefix}-cluster`, providerArgs(plan), parent);
  return new KubernetesStack(
    `${plan.prefix}-kubernetes`,
    { plan, secrets: args.secrets, generated: args.generated },
    { providers: { kubernetes: provider }, ...parent },
  );
}

export { KubernetesStack };
