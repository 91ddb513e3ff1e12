// Runs rules over a set of resources the way the engine does: every resource rule on every
// resource, every stack rule once on all of them, with policy config in the format of
// `pulumi preview --policy-pack-config` (validated against each rule's config schema).
import Ajv from "ajv";
import { rules as allRules } from "../rules";
import { type AnyRule, type EnforcementLevel, type Subject, configOf } from "../core/types";

export type Level = EnforcementLevel | "disabled";

/** `{ "<rule>": "advisory" }` or `{ "<rule>": { "enforcementLevel": ..., <config props> } }`. */
export type PolicyConfig = Record<string, Level | ({ enforcementLevel?: Level } & Record<string, unknown>)>;

export interface Violation {
  rule: AnyRule;
  /** The level it was reported at (the rule's own, or the one policy config set). */
  level: EnforcementLevel;
  /** The resource; absent for a finding about the stack as a whole. */
  subject?: Subject;
  message: string;
}

export interface Evaluation {
  violations: Violation[];
  /** Rules that threw: a bug in a rule, never a pass. */
  errors: { rule: AnyRule; subject?: Subject; error: string }[];
  rulesRun: AnyRule[];
  resources: number;
}

export class PolicyConfigError extends Error {
  override name = "PolicyConfigError";
}

const ajv = new Ajv({ allErrors: true, strict: false });
const LEVELS = ["mandatory", "advisory", "disabled"];

/** Checks policy config against the rules' schemas; throws naming every bad entry. */
export function checkPolicyConfig(config: PolicyConfig, rules: AnyRule[] = allRules): void {
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(config)) {
    const rule = rules.find((r) => r.name === name);
    if (!rule) {
      problems.push(`${name}: no such rule (rules: ${rules.map((r) => r.name).join(", ")})`);
      continue;
    }
    if (typeof entry === "string") {
      if (!LEVELS.includes(entry))
        problems.push(
          `${name}: enforcement level must be one of ${LEVELS.join(", ")}, not ${JSON.stringify(entry)}`,
        );
      continue;
    }
    const { enforcementLevel, ...props } = entry;
    if (enforcementLevel !== undefined && !LEVELS.includes(enforcementLevel))
      problems.push(
        `${name}.enforcementLevel: must be one of ${LEVELS.join(", ")}, not ${JSON.stringify(enforcementLevel)}`,
      );
    const schema = {
      type: "object",
      properties: rule.config?.schema ?? {},
      additionalProperties: false,
    };
    const validate = ajv.compile(schema);
    if (!validate(props))
      for (const error of validate.errors ?? [])
        problems.push(
          `${name}${error.instancePath.replace(/\//g, ".")}: ${error.message ?? "is invalid"}${error.params && "additionalProperty" in error.params ? ` (${String(error.params.additionalProperty)})` : ""}`,
        );
  }
  if (problems.length > 0)
    throw new PolicyConfigError(`invalid policy config:\n  - ${problems.join("\n  - ")}`);
}

function levelOf(rule: AnyRule, config: PolicyConfig): Level {
  const entry = config[rule.name];
  if (typeof entry === "string") return entry;
  return entry?.enforcementLevel ?? rule.enforcementLevel;
}

function ruleConfig(rule: AnyRule, config: PolicyConfig): Record<string, unknown> | undefined {
  const entry = config[rule.name];
  if (typeof entry !== "object") return undefined;
  const { enforcementLevel: _level, ...props } = entry;
  return props;
}

export function evaluate(
  subjects: Subject[],
  options: { rules?: AnyRule[]; config?: PolicyConfig } = {},
): Evaluation {
  const rules = options.rules ?? allRules;
  const config = options.config ?? {};
  checkPolicyConfig(config, rules);
  const evaluation: Evaluation = { violations: [], errors: [], rulesRun: [], resources: subjects.length };
  for (const rule of rules) {
    const level = levelOf(rule, config);
    if (level === "disabled") continue;
    evaluation.rulesRun.push(rule);
    const settings = configOf(rule, ruleConfig(rule, config));
    const fail = (error: unknown, subject?: Subject) =>
      evaluation.errors.push({
        rule,
        ...(subject ? { subject } : {}),
        error: error instanceof Error ? error.message : String(error),
      });
    if (rule.kind === "resource") {
      for (const subject of subjects) {
        try {
          for (const message of rule.validate(subject, settings))
            evaluation.violations.push({ rule, level, subject, message });
        } catch (error) {
          fail(error, subject);
        }
      }
    } else {
      try {
        for (const finding of rule.validate(subjects, settings))
          evaluation.violations.push({
            rule,
            level,
            ...(finding.subject ? { subject: finding.subject } : {}),
            message: finding.message,
          });
      } catch (error) {
        fail(error);
      }
    }
  }
  return evaluation;
}

export const mandatoryViolations = (evaluation: Evaluation) =>
  evaluation.violations.filter((v) => v.level === "mandatory");
