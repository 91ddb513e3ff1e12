import { type EnvironmentSetting, environmentProperty, isProduction } from "../core/environment";
import { autoscalers, autoscalersOf, minimumReplicas } from "../core/scaling";
import type { StackFinding, StackRule } from "../core/types";
import { dockerWorkloads, kubernetesWorkloads } from "../core/workloads";

interface Config {
  minReplicas: Record<string, number>;
  environment: EnvironmentSetting;
}

const DEFAULT_MIN = { api: 3, worker: 2 };

export const productionMinReplicas: StackRule<Config> = {
  kind: "stack",
  name: "production-min-replicas",
  description:
    "In production the API runs at least 3 instances and the workers at least 2 (the guide's architecture), on a Docker host (containers) and on Kubernetes (replicas of workloads no autoscaler manages; see hpa-consistent for those).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Set chatapi:api.replicas to 3 or more and chatapi:worker.replicas to 2 or more in the production stack (with autoscaling, chatapi:api.autoscaling.minReplicas).",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      minReplicas: {
        type: "object",
        additionalProperties: { type: "integer", minimum: 1 },
        default: DEFAULT_MIN,
        description: "Fewest instances per role (app.kubernetes.io/component) in production.",
      },
      environment: environmentProperty,
    },
    defaults: { minReplicas: DEFAULT_MIN, environment: "auto" },
  },
  validate(subjects, config) {
    if (!isProduction(subjects, config.environment)) return [];
    const findings: StackFinding[] = [];
    const hpas = autoscalers(subjects);
    for (const workload of kubernetesWorkloads(subjects)) {
      const wanted = workload.role ? config.minReplicas[workload.role] : undefined;
      if (wanted === undefined || autoscalersOf(workload, hpas).length > 0) continue;
      if (workload.kind !== "Deployment" && workload.kind !== "StatefulSet") continue;
      const replicas = minimumReplicas(workload, hpas);
      if (replicas < wanted)
        findings.push({
          subject: workload.subject,
          message: `${workload.kind} ${JSON.stringify(workload.name)} (${workload.role}) runs ${replicas} replica${replicas === 1 ? "" : "s"} in production; at least ${wanted}`,
        });
    }
    const containers = dockerWorkloads(subjects);
    for (const [role, wanted] of Object.entries(config.minReplicas)) {
      const instances = containers.filter((c) => c.role === role);
      if (instances.length > 0 && instances.length < wanted)
        findings.push({
          subject: instances[0]!.subject,
          message: `${instances.length} ${role} container${instances.length === 1 ? "" : "s"} in production; at least ${wanted}`,
        });
    }
    return findings;
  },
};
