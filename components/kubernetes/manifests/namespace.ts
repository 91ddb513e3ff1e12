// The namespace (Pod Security "restricted" enforced), the pods' ServiceAccount (no token), the
// app Secret and the ConfigMaps of plain files. Pure.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, WorkloadPlan } from "../../plan/types";
import { configMapData } from "./files";
import { metadata, objectNames, stackLabels } from "./meta";

export function namespace(plan: DeploymentPlan): k8s.types.input.core.v1.Namespace {
  if (plan.kubernetes.namespace === "default")
    throw new Error("the stack never deploys into the default namespace");
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: plan.kubernetes.namespace,
      labels: {
        ...stackLabels(plan, "namespace"),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    },
  };
}

export function serviceAccount(plan: DeploymentPlan): k8s.types.input.core.v1.ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: metadata(plan, objectNames(plan).serviceAccount, stackLabels(plan, "service-account")),
    automountServiceAccountToken: false,
  };
}

/** The keys of the app Secret: every plan secret except the TLS pair (which has its own Secret). */
export function appSecretKeys(plan: DeploymentPlan): string[] {
  return plan.secrets.filter((s) => s.source.kind !== "tls").map((s) => s.name);
}

export function appSecret(
  plan: DeploymentPlan,
  name: string | undefined,
  values: Record<string, pulumi.Input<string>>,
): k8s.types.input.core.v1.Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadata(plan, name, stackLabels(plan, "secrets")),
    type: "Opaque",
    stringData: values,
  };
}

export function configMap(
  plan: DeploymentPlan,
  w: WorkloadPlan,
  name: string | undefined,
): k8s.types.input.core.v1.ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(plan, name, w.labels),
    data: configMapData(w),
  };
}
