// HorizontalPodAutoscaler and PodDisruptionBudgets. Pure.
import type * as k8s from "@pulumi/kubernetes";
import type { AutoscalingPlan, DeploymentPlan, WorkloadPlan } from "../../plan/types";
import { metadata, selectorLabels } from "./meta";

/**
 * autoscaling/v2 on CPU utilisation (of the request). Scale-down is slow and one pod at a time:
 * every API pod that goes closes its WebSockets, and those clients reconnect elsewhere.
 */
export function horizontalPodAutoscaler(
  plan: DeploymentPlan,
  w: WorkloadPlan,
  scaling: AutoscalingPlan,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: metadata(plan, w.name, w.labels),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: w.name },
      minReplicas: scaling.minReplicas,
      maxReplicas: scaling.maxReplicas,
      metrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            target: { type: "Utilization", averageUtilization: scaling.targetCpuUtilization },
          },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          policies: [{ type: "Percent", value: 100, periodSeconds: 30 }],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          policies: [{ type: "Pods", value: 1, periodSeconds: 120 }],
        },
      },
    },
  };
}

/** At most pdbMaxUnavailable pods of the workload evicted at once (node drains, upgrades). */
export function podDisruptionBudget(
  plan: DeploymentPlan,
  w: WorkloadPlan,
): k8s.types.input.policy.v1.PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadata(plan, w.name, w.labels),
    spec: {
      maxUnavailable: plan.kubernetes.pdbMaxUnavailable,
      selector: { matchLabels: selectorLabels(plan, w.role) },
      // Pods that are not ready yet may be evicted: a stuck rollout does not block a drain.
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}
