import { isKind, namespaceOf, objectName, selectorMatches } from "../core/kubernetes";
import { autoscalers, minimumReplicas } from "../core/scaling";
import type { StackFinding, StackRule, Subject } from "../core/types";
import { at } from "../core/values";
import { type KubernetesWorkload, kubernetesWorkloads } from "../core/workloads";

interface Config {
  /** Workloads with at least this many replicas need a PDB. */
  minReplicasForPdb: number;
}

const REPLICATED_KINDS = ["Deployment", "StatefulSet"];

/** An int-or-percent of a replica count, rounded up as the disruption controller does. */
function scaled(value: unknown, replicas: number): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+%$/.test(value))
    return Math.ceil((Number.parseInt(value, 10) * replicas) / 100);
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

/** Pods that may be evicted at once with `replicas` pods running. */
function allowedDisruptions(pdb: Subject, replicas: number): number | undefined {
  const minAvailable = at(pdb.props, "spec", "minAvailable");
  const maxUnavailable = at(pdb.props, "spec", "maxUnavailable");
  if (minAvailable !== undefined) {
    const keep = scaled(minAvailable, replicas);
    return keep === undefined ? undefined : replicas - keep;
  }
  if (maxUnavailable !== undefined) return scaled(maxUnavailable, replicas);
  return undefined;
}

function budgetProblems(
  pdb: Subject,
  workload: KubernetesWorkload,
  replicas: number,
  minReplicas: number,
): string[] {
  const allowed = allowedDisruptions(pdb, replicas);
  const name = JSON.stringify(objectName(pdb));
  const of = `${workload.kind} ${JSON.stringify(workload.name)} at ${replicas} replica${replicas === 1 ? "" : "s"}`;
  if (allowed === undefined)
    return [`PodDisruptionBudget ${name} sets neither a valid minAvailable nor maxUnavailable`];
  if (allowed <= 0)
    return [`PodDisruptionBudget ${name} allows no voluntary eviction of ${of}: node drains would block`];
  // A single pod cannot be both kept and evicted: there only a budget that blocks drains is wrong.
  if (allowed >= replicas && replicas >= minReplicas)
    return [`PodDisruptionBudget ${name} lets every pod of ${of} be evicted at once: it protects nothing`];
  return [];
}

export const pdbSane: StackRule<Config> = {
  kind: "stack",
  name: "pdb-sane",
  description:
    "Every replicated Deployment/StatefulSet has exactly one PodDisruptionBudget that keeps at least one pod and still lets a node drain proceed, judged at its fewest replicas (the HPA minimum when autoscaled); no PDB selects nothing.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "Give each replicated workload one PDB selecting its pod labels with maxUnavailable: 1 (or minAvailable below its minimum replicas); remove PDBs from single-replica workloads or let them allow one disruption.",
  targets: ["kubernetes"],
  config: {
    schema: {
      minReplicasForPdb: {
        type: "integer",
        minimum: 2,
        default: 2,
        description: "Workloads running at least this many replicas must have a PodDisruptionBudget.",
      },
    },
    defaults: { minReplicasForPdb: 2 },
  },
  validate(subjects, config) {
    const pdbs = subjects.filter((s) => isKind(s, "PodDisruptionBudget"));
    const hpas = autoscalers(subjects);
    const workloads = kubernetesWorkloads(subjects);
    const findings: StackFinding[] = [];
    const selecting = (pdb: Subject, w: KubernetesWorkload) =>
      namespaceOf(pdb) === w.namespace && selectorMatches(at(pdb.props, "spec", "selector"), w.podLabels);

    for (const workload of workloads) {
      if (!REPLICATED_KINDS.includes(workload.kind)) continue;
      const replicas = minimumReplicas(workload, hpas);
      const budgets = pdbs.filter((pdb) => selecting(pdb, workload));
      if (budgets.length === 0 && replicas >= config.minReplicasForPdb)
        findings.push({
          subject: workload.subject,
          message: `${workload.kind} ${JSON.stringify(workload.name)} runs ${replicas} replicas with no PodDisruptionBudget`,
        });
      if (budgets.length > 1)
        findings.push({
          subject: workload.subject,
          message: `${budgets.length} PodDisruptionBudgets select the pods of ${workload.kind} ${JSON.stringify(workload.name)}; the eviction API refuses pods covered by more than one`,
        });
      for (const pdb of budgets)
        for (const message of budgetProblems(pdb, workload, replicas, config.minReplicasForPdb))
          findings.push({ subject: pdb, message });
    }
    for (const pdb of pdbs) {
      if (!workloads.some((w) => selecting(pdb, w)))
        findings.push({
          subject: pdb,
          message: `PodDisruptionBudget ${JSON.stringify(objectName(pdb))} selects no pod of the stack`,
        });
    }
    return findings;
  },
};
