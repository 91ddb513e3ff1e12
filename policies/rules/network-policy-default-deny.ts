import { namespaceOf } from "../core/kubernetes";
import { type Direction, deniesAll, networkPolicies } from "../core/network-policies";
import type { StackRule } from "../core/types";
import { kubernetesWorkloads } from "../core/workloads";

interface Config {
  directions: Direction[];
}

export const networkPolicyDefaultDeny: StackRule<Config> = {
  kind: "stack",
  name: "network-policy-default-deny",
  description:
    "Every pod is covered by a default-deny NetworkPolicy (an empty podSelector with no rules) for ingress and egress in its namespace, so only explicit allows let traffic through.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Add to each namespace a NetworkPolicy with podSelector: {}, policyTypes: [Ingress, Egress] and no rules, then allow each flow explicitly (nginx → api, app → data stores, DNS).",
  targets: ["kubernetes"],
  config: {
    schema: {
      directions: {
        type: "array",
        items: { type: "string", enum: ["Ingress", "Egress"] },
        default: ["Ingress", "Egress"],
        description: "Directions that must be denied by default.",
      },
    },
    defaults: { directions: ["Ingress", "Egress"] },
  },
  validate(subjects, config) {
    const policies = networkPolicies(subjects);
    return kubernetesWorkloads(subjects).flatMap((workload) => {
      const inNamespace = policies.filter((p) => namespaceOf(p) === workload.namespace);
      const missing = config.directions.filter(
        (direction) => !inNamespace.some((p) => deniesAll(p, direction)),
      );
      if (missing.length === 0) return [];
      const where = workload.namespace ? `namespace ${JSON.stringify(workload.namespace)}` : "its namespace";
      return [
        {
          subject: workload.subject,
          message: `the pods of ${workload.kind} ${JSON.stringify(workload.name)} are not covered by a default-deny NetworkPolicy for ${missing.join(" and ")} in ${where}`,
        },
      ];
    });
  },
};
