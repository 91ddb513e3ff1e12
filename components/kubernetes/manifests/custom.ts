// The shape of a custom resource (cert-manager, Gateway API): what k8s.apiextensions.CustomResource takes.
import type * as k8s from "@pulumi/kubernetes";

export interface CustomObject {
  apiVersion: string;
  kind: string;
  metadata: k8s.types.input.meta.v1.ObjectMeta;
  spec: Record<string, unknown>;
}
