// What a pull-request comment says about one stack's preview: plain data, built by parse.ts
// from the engine's output and written as Markdown by render.ts.

export interface PropertyChange {
  /** Pulumi property path, e.g. spec.template.spec.containers[0].image. */
  path: string;
  /** add, update or delete. */
  kind: string;
  /** The provider must replace the resource because of this property. */
  replaces: boolean;
  /** Display text of the old and new value ("[secret]" for secrets); absent when not there. */
  before?: string;
  after?: string;
}

export interface ResourceChange {
  /** create, update, replace, delete, ... (the logical operation; replacement steps folded in). */
  operation: string;
  type: string;
  name: string;
  properties: PropertyChange[];
}

export interface PolicyViolation {
  /** mandatory, advisory, remediate or disabled. */
  enforcement: string;
  policyPack: string;
  policy: string;
  /** The resource the violation is about; absent for stack-level policies. */
  resource?: { type: string; name: string };
  /** The policy's description (what it requires). */
  description: string;
  /** What is wrong with this resource. */
  violation: string;
  /** How to fix it, when the policy says. */
  remediation?: string;
}

export interface StackPreview {
  stack: string;
  /** failed: the preview exited non-zero, reported an error, or a mandatory policy failed. */
  outcome: "succeeded" | "failed";
  /** Number of resources per operation, "same" included. */
  counts: Record<string, number>;
  changes: ResourceChange[];
  violations: PolicyViolation[];
  /** Error diagnostics (messages only). */
  errors: string[];
  /** Policy packs that ran (name@version). */
  policyPacks: string[];
}
