// Runs one rule the way the pack does (config defaults merged with what the test sets) and
// checks that no message carries a planted secret value.
import { expect } from "vitest";
import { type ResourceRule, type StackRule, type Subject, configOf } from "../core/types";
import { plantedValues } from "./secrets";

function expectNoSecrets(messages: string[]): void {
  for (const message of messages)
    for (const secret of plantedValues())
      expect(message, "a message leaks a secret value").not.toContain(secret);
}

export function check<C>(rule: ResourceRule<C>, subject: Subject, config?: Partial<C>): string[] {
  const messages = rule.validate(subject, configOf(rule, config as Record<string, unknown> | undefined));
  expectNoSecrets(messages);
  return messages;
}

/** Stack findings as "<resource name>: <message>" (or "(stack): ..."). */
export function checkStack<C>(rule: StackRule<C>, subjects: Subject[], config?: Partial<C>): string[] {
  const findings = rule.validate(subjects, configOf(rule, config as Record<string, unknown> | undefined));
  const lines = findings.map((f) => `${f.subject?.name ?? "(stack)"}: ${f.message}`);
  expectNoSecrets(lines);
  return lines;
}

/** Props as tests edit them: any depth, no types (the rules under test read them untyped too). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are edited freely, like user manifests
export type Loose = Record<string, any>;

/** A deep copy of a subject with its props changed by `edit`. */
export function changed(subject: Subject, edit: (props: Loose) => void): Subject {
  const copy = structuredClone(subject);
  edit(copy.props);
  return copy;
}

/** Replaces the subject named `name` in a list by an edited copy. */
export function editNamed(subjects: Subject[], name: string, edit: (props: Loose) => void): Subject[] {
  if (!subjects.some((s) => s.name === name)) throw new Error(`no subject ${name}`);
  return subjects.map((s) => (s.name === name ? changed(s, edit) : s));
}
