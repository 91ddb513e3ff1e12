// One problem with the stack config, and the error that lists them all.

export const NAMESPACE = "chatapi";

export interface ConfigIssue {
  /** The config key as `pulumi config set --path` spells it, e.g. chatapi:api.replicas. */
  key: string;
  /** What is wrong. */
  problem: string;
  /** What would be right. */
  expected?: string;
  /** The offending value, already formatted (secrets as [secret]); absent when missing. */
  actual?: string;
}

export const REDACTED = "[secret]";

/** Stands for a secret that is set but cannot be read here (encrypted in the stack file). */
export const UNREADABLE_SECRET = "[encrypted in the stack file]";

/** A value as shown in an error: JSON, cut short, or [secret]. */
export function showValue(value: unknown, secret: boolean): string {
  if (secret) return REDACTED;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatIssue(issue: ConfigIssue): string {
  let line = `${issue.key}: ${issue.problem}`;
  if (issue.expected) line += `; expected ${issue.expected}`;
  if (issue.actual !== undefined) line += `; got ${issue.actual}`;
  return line;
}

export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly issues: ConfigIssue[],
  ) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(
      `The config of stack "${stackName}" is invalid (${count}):\n` +
        issues.map((issue) => `  - ${formatIssue(issue)}`).join("\n") +
        `\nSee README.md, "Stack configuration", for every key.`,
    );
    this.name = "ConfigError";
  }
}

/** chatapi:<top>.<nested>[0] from a JSON pointer such as /api/replicas. */
export function keyFromPointer(pointer: string, extra?: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) parts.push(extra);
  let key = `${NAMESPACE}:`;
  parts.forEach((part, index) => {
    if (/^[0-9]+$/.test(part) && index > 0) key += `[${part}]`;
    else key += index === 0 ? part : `.${part}`;
  });
  return key;
}
