// Replica counts as Kubernetes will run them: a HorizontalPodAutoscaler's range overrides the
// workload's spec.replicas.
import { isKind, namespaceOf, replicasOf } from "./kubernetes";
import type { Subject } from "./types";
import { at, num, str } from "./values";
import type { KubernetesWorkload } from "./workloads";

export const autoscalers = (subjects: Subject[]) =>
  subjects.filter((s) => isKind(s, "HorizontalPodAutoscaler"));

export interface ScaleTarget {
  kind: string;
  name: string;
}

export function scaleTargetOf(hpa: Subject): ScaleTarget {
  const ref = at(hpa.props, "spec", "scaleTargetRef");
  return { kind: str(at(ref, "kind")) ?? "?", name: str(at(ref, "name")) ?? "?" };
}

export const hpaRange = (hpa: Subject) => ({
  min: num(at(hpa.props, "spec", "minReplicas")) ?? 1,
  max: num(at(hpa.props, "spec", "maxReplicas")),
});

/** The autoscalers that scale a workload. */
export function autoscalersOf(workload: KubernetesWorkload, hpas: Subject[]): Subject[] {
  return hpas.filter((hpa) => {
    const target = scaleTargetOf(hpa);
    return (
      namespaceOf(hpa) === workload.namespace &&
      target.kind === workload.kind &&
      target.name === workload.name
    );
  });
}

/** The fewest pods a workload runs: its autoscaler's minimum, else spec.replicas (default 1). */
export function minimumReplicas(workload: KubernetesWorkload, hpas: Subject[]): number {
  const hpa = autoscalersOf(workload, hpas)[0];
  if (hpa) return hpaRange(hpa).min;
  return replicasOf(workload.subject) ?? 1;
}
