// Rules → CrossGuard policies. Kept apart from index.ts (the only `new PolicyPack`, whose
// constructor starts a gRPC server and may exit the process) so tests can check the policies
// the pack serves.
import type {
  Policy,
  PolicyConfigSchema,
  ReportViolation,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { type AnyRule, type Subject, configOf } from "./core/types";

type Getter = { getConfig<T extends object>(): T };

const configFor = (rule: AnyRule, args: Getter) => configOf(rule, args.getConfig<Record<string, unknown>>());

function metadata(rule: AnyRule): Policy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    severity: rule.severity,
    remediationSteps: rule.remediation,
    tags: rule.targets,
    ...(rule.config
      ? { configSchema: { properties: rule.config.schema } as unknown as PolicyConfigSchema }
      : {}),
  };
}

export function toPolicy(rule: AnyRule): ResourceValidationPolicy | StackValidationPolicy {
  if (rule.kind === "resource") {
    return {
      ...metadata(rule),
      validateResource: (args, report: ReportViolation) => {
        const subject: Subject = { type: args.type, name: args.name, props: args.props, urn: args.urn };
        for (const message of rule.validate(subject, configFor(rule, args))) report(message);
      },
    };
  }
  return {
    ...metadata(rule),
    validateStack: (args, report: ReportViolation) => {
      const subjects: Subject[] = args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        props: r.props,
        urn: r.urn,
      }));
      for (const finding of rule.validate(subjects, configFor(rule, args)))
        report(finding.message, finding.subject?.urn);
    },
  };
}
