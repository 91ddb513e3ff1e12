// How to fix a violated policy: the remediation text of the pack's own rule (policies/rules),
// which CrossGuard's policy events do not carry.
import { rules } from "../../../policies/rules";

const remediations = new Map(rules.map((rule) => [rule.name, rule.remediation]));

export const remediationFor = (policy: string): string | undefined => remediations.get(policy);
