// What every fault scenario and attack reports. `npm run chaos` (chaos/run.ts) collects these
// into docs/RELIABILITY.md; the short form in the test suite asserts on the same objects.

/** How much load a run uses: `short` is the CI form (small load, every case once). */
export type Scale = "short" | "full";

/** One fault scenario run under steady load. */
export interface ScenarioResult {
  /** Stable id, e.g. "kill-api-instance". */
  id: string;
  title: string;
  /** The load, in words: "4 senders × 2 rooms, 20 msg/s, 6 subscribers on 2 instances". */
  load: string;
  /** The fault, in words: "SIGKILL api-1 at t=3 s". */
  fault: string;
  sent: number;
  acked: number;
  /** Deliveries counted over every subscriber that should receive each message. */
  delivered: number;
  /** Acked messages some subscriber never got (or that are missing from PostgreSQL). */
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Fault start until the service answered normally again (ms); null if it never degraded. */
  recoveryMs: number | null;
  /** Scenario-specific figures, e.g. { "5xx": 0, "503": 12, "emails": 40 }. */
  extra: Record<string, number | string>;
  /** Every check the scenario made, in words, with its outcome. */
  checks: { name: string; ok: boolean; detail?: string }[];
}

/** One attack (a family of attempts against one defence). */
export interface AttackResult {
  id: string;
  title: string;
  /** How many attempts were made (requests, frames, generated inputs). */
  attempts: number;
  /** Expected outcome, e.g. "401 for every forged token". */
  expected: string;
  /** What happened, e.g. "401 × 14". */
  outcome: string;
  /** Attempts that got more than they should have (data, a 5xx, a crash, a leaked secret). */
  failures: number;
  checks: { name: string; ok: boolean; detail?: string }[];
}

export const passed = (r: { checks: { ok: boolean }[] }): boolean => r.checks.every((c) => c.ok);
