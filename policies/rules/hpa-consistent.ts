import { type EnvironmentSetting, environmentProperty, isProduction } from "../core/environment";
import { kubernetesKind, namespaceOf, objectName, replicasOf } from "../core/kubernetes";
import { quantity } from "../core/quantity";
import { autoscalers, autoscalersOf, hpaRange, scaleTargetOf } from "../core/scaling";
import type { StackFinding, StackRule, Subject } from "../core/types";
import { at, dicts, str } from "../core/values";
import { type KubernetesWorkload, kubernetesWorkloads } from "../core/workloads";

interface Config {
  minReplicasProduction: number;
  environment: EnvironmentSetting;
}

/** Resources the HPA's Utilization targets are a percentage of (each needs a request). */
function utilizationResources(hpa: Subject): string[] {
  return dicts(at(hpa.props, "spec", "metrics"))
    .filter((m) => m.type === "Resource" && at(m, "resource", "target", "type") === "Utilization")
    .flatMap((m) => (str(at(m, "resource", "name")) ? [str(at(m, "resource", "name"))!] : []));
}

function targetProblems(
  hpa: Subject,
  target: KubernetesWorkload,
  min: number,
  max: number | undefined,
): string[] {
  const out: string[] = [];
  const replicas = replicasOf(target.subject);
  if (replicas !== undefined && (replicas < min || (max !== undefined && replicas > max)))
    out.push(
      `${target.kind} ${JSON.stringify(target.name)} sets replicas ${replicas}, outside the autoscaler's ${min}..${max ?? "?"}`,
    );
  for (const resource of utilizationResources(hpa)) {
    const missing = target.containers
      .filter((c) => c.kind === "container")
      .filter((c) => !((quantity(at(c.spec, "resources", "requests", resource)) ?? 0) > 0))
      .map((c) => c.name);
    if (missing.length > 0)
      out.push(
        `scales on ${resource} utilisation, but container${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${target.kind} ${JSON.stringify(target.name)} request no ${resource} (utilisation is a share of the request)`,
      );
  }
  return out;
}

export const hpaConsistent: StackRule<Config> = {
  kind: "stack",
  name: "hpa-consistent",
  description:
    "Each HorizontalPodAutoscaler is autoscaling/v2, targets a Deployment/StatefulSet of the stack that requests the resources it scales on, has minReplicas ≤ maxReplicas, does not fight the workload's replicas, is the only one for its target, and keeps at least 3 pods in production.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "Use autoscaling/v2 with scaleTargetRef naming the Deployment in the same namespace, minReplicas ≥ 3 in production (chatapi:api.autoscaling.minReplicas), maxReplicas ≥ minReplicas, CPU requests on every container, and leave the Deployment's replicas unset or inside the range.",
  targets: ["kubernetes"],
  config: {
    schema: {
      minReplicasProduction: {
        type: "integer",
        minimum: 1,
        default: 3,
        description: "Fewest pods an autoscaler may scale to in production.",
      },
      environment: environmentProperty,
    },
    defaults: { minReplicasProduction: 3, environment: "auto" },
  },
  validate(subjects, config) {
    const hpas = autoscalers(subjects);
    if (hpas.length === 0) return [];
    const workloads = kubernetesWorkloads(subjects);
    const production = isProduction(subjects, config.environment);
    const findings: StackFinding[] = [];
    for (const hpa of hpas) {
      const name = `HorizontalPodAutoscaler ${JSON.stringify(objectName(hpa))}`;
      const add = (message: string) => findings.push({ subject: hpa, message: `${name} ${message}` });
      const version = kubernetesKind(hpa);
      if (version && `${version.group}/${version.version}` !== "autoscaling/v2")
        add(`uses ${version.group}/${version.version}; use autoscaling/v2`);
      const { min, max } = hpaRange(hpa);
      if (max === undefined) add("sets no maxReplicas");
      else if (min > max) add(`has minReplicas ${min} above maxReplicas ${max}`);
      if (production && min < config.minReplicasProduction)
        add(
          `keeps as few as ${min} pod${min === 1 ? "" : "s"} in production (at least ${config.minReplicasProduction})`,
        );
      const ref = scaleTargetOf(hpa);
      const target = workloads.find(
        (w) => w.kind === ref.kind && w.name === ref.name && w.namespace === namespaceOf(hpa),
      );
      if (!target) {
        add(
          `targets ${ref.kind} ${JSON.stringify(ref.name)}, which is not in the stack (namespace ${JSON.stringify(namespaceOf(hpa))})`,
        );
        continue;
      }
      for (const problem of targetProblems(hpa, target, min, max)) add(problem);
      const others = autoscalersOf(target, hpas);
      if (others.length > 1 && others[0] === hpa)
        add(
          `is one of ${others.length} autoscalers of ${target.kind} ${JSON.stringify(target.name)}; they would fight`,
        );
    }
    return findings;
  },
};
