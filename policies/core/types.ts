// The rule contract. A rule sees plain objects `{ type, name, props }`, so the same rule runs
// on CrossGuard's ResourceValidationArgs / PolicyResource (the pack, ../pack.ts), on resources
// captured under Pulumi runtime mocks and on plain Kubernetes manifests (the offline runner,
// ../offline). Nothing here depends on @pulumi/policy.

export type EnforcementLevel = "mandatory" | "advisory";
export type Severity = "low" | "medium" | "high" | "critical";
export type Target = "kubernetes" | "docker";

/** A resource as every rule sees it: a Pulumi type token, a name and its properties. */
export interface Subject {
  /** Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`, `docker:index/container:Container`. */
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** Set by the engine; used to attach stack-rule findings to a resource. */
  urn?: string;
}

/** A JSON Schema fragment for one config property (the subset CrossGuard's configSchema takes). */
export type ConfigProperty = Record<string, unknown> & { description: string; default: unknown };

export interface RuleConfig<C> {
  /** One entry per property of C, each with its default. */
  schema: { [K in keyof C]: ConfigProperty };
  defaults: C;
}

interface RuleBase<C> {
  /** Unique, kebab-case: the name CrossGuard reports and policy config refers to. */
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  severity: Severity;
  /** What to change so the violation goes away. */
  remediation: string;
  targets: Target[];
  config?: RuleConfig<C>;
}

export interface ResourceRule<C = Record<string, never>> extends RuleBase<C> {
  kind: "resource";
  /** Messages, one per violation; never a secret value. */
  validate(subject: Subject, config: C): string[];
}

export interface StackFinding {
  /** The resource the finding is about; absent for the stack as a whole. */
  subject?: Subject;
  message: string;
}

export interface StackRule<C = Record<string, never>> extends RuleBase<C> {
  kind: "stack";
  validate(subjects: Subject[], config: C): StackFinding[];
}

export type Rule<C = Record<string, never>> = ResourceRule<C> | StackRule<C>;

// Rules of every config shape, as the pack and the runner hold them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the config type varies per rule; each rule is checked with its own C where it is defined
export type AnyRule = Rule<any>;

/** A rule's config: its defaults overridden by what the user set. */
export function configOf<C>(rule: Rule<C>, given: Record<string, unknown> | undefined): C {
  const defaults = (rule.config?.defaults ?? {}) as C;
  return { ...defaults, ...(given ?? {}) } as C;
}
