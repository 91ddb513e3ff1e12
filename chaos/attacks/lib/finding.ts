// What every finding's attack (delivery-findings.ts, edge-findings.ts) reports: failures are
// the checks that did not hold.
import type { AttackResult } from "../../lib/results";

export type Check = AttackResult["checks"][number];

export function findingResult(
  id: string,
  title: string,
  expected: string,
  outcome: string,
  attempts: number,
  checks: Check[],
): AttackResult {
  return { id, title, attempts, expected, outcome, failures: checks.filter((c) => !c.ok).length, checks };
}
