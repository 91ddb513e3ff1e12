// NetworkPolicies: which pods one selects and which directions it governs.
import { isKind, namespaceOf, selectorMatches, selectsAll } from "./kubernetes";
import type { Subject } from "./types";
import { at, dicts, list } from "./values";

export type Direction = "Ingress" | "Egress";

export const networkPolicies = (subjects: Subject[]) => subjects.filter((s) => isKind(s, "NetworkPolicy"));

/** The directions a policy governs (policyTypes; without it, Ingress, plus Egress when it has egress rules). */
export function directionsOf(policy: Subject): Direction[] {
  const types = list(at(policy.props, "spec", "policyTypes")).filter(
    (t): t is Direction => t === "Ingress" || t === "Egress",
  );
  if (types.length > 0) return types;
  return at(policy.props, "spec", "egress") !== undefined ? ["Ingress", "Egress"] : ["Ingress"];
}

export const rulesOf = (policy: Subject, direction: Direction) =>
  dicts(at(policy.props, "spec", direction === "Ingress" ? "ingress" : "egress"));

/** Policies in the namespace whose podSelector selects pods with these labels. */
export function policiesSelecting(
  policies: Subject[],
  namespace: string,
  labels: Record<string, string>,
): Subject[] {
  return policies.filter(
    (p) => namespaceOf(p) === namespace && selectorMatches(at(p.props, "spec", "podSelector"), labels),
  );
}

/** A policy that selects every pod of its namespace and allows nothing in this direction. */
export function deniesAll(policy: Subject, direction: Direction): boolean {
  return (
    selectsAll(at(policy.props, "spec", "podSelector")) &&
    directionsOf(policy).includes(direction) &&
    rulesOf(policy, direction).length === 0
  );
}
