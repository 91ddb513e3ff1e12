// Evaluation → what a person (text) or a CI tool (JSON) reads: violations grouped by
// resource, each with its rule, level, severity and remediation.
import type { AnyRule, Subject } from "../core/types";
import { type Evaluation, type Violation, mandatoryViolations } from "./evaluate";

const STACK = "(stack)";
const resourceKey = (subject: Subject | undefined) =>
  subject ? `${subject.name}  [${subject.type}]` : STACK;

function grouped(violations: Violation[]): Map<string, Violation[]> {
  const groups = new Map<string, Violation[]>();
  const ordered = [...violations].sort(
    (a, b) =>
      Number(a.level === "advisory") - Number(b.level === "advisory") ||
      resourceKey(a.subject).localeCompare(resourceKey(b.subject)),
  );
  for (const v of ordered)
    groups.set(resourceKey(v.subject), [...(groups.get(resourceKey(v.subject)) ?? []), v]);
  return groups;
}

export function formatText(title: string, evaluation: Evaluation, notes: string[] = []): string {
  const lines = [`${title}: ${evaluation.resources} resources, ${evaluation.rulesRun.length} rules`];
  for (const note of notes) lines.push(`  note: ${note}`);
  lines.push("");
  const violated = new Map<string, AnyRule>();
  for (const [resource, violations] of grouped(evaluation.violations)) {
    lines.push(resource);
    for (const v of violations) {
      lines.push(`  [${v.level}] ${v.rule.name} (${v.rule.severity}): ${v.message}`);
      violated.set(v.rule.name, v.rule);
    }
    lines.push("");
  }
  if (violated.size > 0) {
    lines.push("Remediation:");
    for (const rule of violated.values()) lines.push(`  ${rule.name}: ${rule.remediation}`);
    lines.push("");
  }
  for (const error of evaluation.errors)
    lines.push(`ERROR: rule ${error.rule.name} failed on ${resourceKey(error.subject)}: ${error.error}`);
  const mandatory = mandatoryViolations(evaluation).length;
  const advisory = evaluation.violations.length - mandatory;
  lines.push(
    `${mandatory === 0 && evaluation.errors.length === 0 ? "PASSED" : "FAILED"}: ${mandatory} mandatory violation${mandatory === 1 ? "" : "s"}, ${advisory} advisory${evaluation.errors.length ? `, ${evaluation.errors.length} rule error${evaluation.errors.length === 1 ? "" : "s"}` : ""}`,
  );
  return lines.join("\n");
}

export function toJson(title: string, evaluation: Evaluation, notes: string[] = []) {
  return {
    title,
    notes,
    resources: evaluation.resources,
    rules: evaluation.rulesRun.map((r) => r.name),
    passed: mandatoryViolations(evaluation).length === 0 && evaluation.errors.length === 0,
    violations: evaluation.violations.map((v) => ({
      rule: v.rule.name,
      level: v.level,
      severity: v.rule.severity,
      resource: v.subject ? { type: v.subject.type, name: v.subject.name } : null,
      message: v.message,
      remediation: v.rule.remediation,
    })),
    errors: evaluation.errors.map((e) => ({
      rule: e.rule.name,
      resource: e.subject ? { type: e.subject.type, name: e.subject.name } : null,
      error: e.error,
    })),
  };
}
