// One cron library at deploy time and at run time: the schedules below were judged differently
// by cron-parser (the deploy-time check before issue 24) and croner (which runs `chatapi backup
// --schedule` on a Docker host). Now both sides ask croner the same question, and agree.
import { describe, expect, it } from "vitest";
import { cronProblem } from "../../app/src/config/env";
import { cronError } from "./cron";

const used: { schedule: string; before: string; accepted: boolean }[] = [
  // The deploy accepted these; the backup container then refused its schedule and exited.
  { schedule: "0/10 * * * *", before: "deploy ok, container exits", accepted: false },
  { schedule: "0 2 */32 * *", before: "deploy ok, container exits", accepted: false },
  { schedule: "H 2 * * *", before: "deploy ok, container exits", accepted: false },
  // The deploy refused these, which the backup container runs.
  { schedule: "0 2 15W * *", before: "deploy refused, container ok", accepted: true },
  { schedule: "0 2 LW * *", before: "deploy refused, container ok", accepted: true },
  { schedule: "0 2 * * MON-SUN", before: "deploy refused, container ok", accepted: true },
  // No such date: the deploy refused it, the container accepted it and never ran a backup.
  { schedule: "0 2 30 2 *", before: "deploy refused, container never runs", accepted: false },
  { schedule: "0 2 31 2 *", before: "deploy refused, container never runs", accepted: false },
  // Agreed before and after.
  { schedule: "0 2 * * *", before: "both ok", accepted: true },
  { schedule: "0 0 29 2 *", before: "both ok (leap years)", accepted: true },
  { schedule: "61 2 * * *", before: "both refused", accepted: false },
];

describe("backup schedules: the deploy-time check and the backup container agree", () => {
  it.each(used)("$schedule ($before): accepted = $accepted on both sides", ({ schedule, accepted }) => {
    expect(cronError(schedule) === undefined).toBe(accepted);
    expect(cronProblem(schedule) === undefined).toBe(accepted);
  });

  it("says why a schedule that names no real date is refused, on both sides", () => {
    expect(cronError("0 2 30 2 *")).toBe("it never runs (no date matches it)");
    expect(cronProblem("0 2 30 2 *")).toContain("it never runs (no date matches it)");
  });

  it("keeps Kubernetes' 5 fields at deploy time (croner would also take seconds)", () => {
    expect(cronError("0 0 2 * * *")).toBe("has 6 fields, a cron expression has 5");
    expect(cronProblem("0 0 2 * * *")).toBeUndefined();
  });
});
