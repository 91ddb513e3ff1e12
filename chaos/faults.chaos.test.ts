// The short form of every fault scenario (the same code `npm run chaos` runs at full scale):
// small load, every scenario once, on private instances of whatever is faulted.
import { describe, expect, it } from "vitest";
import { scenarios } from "./faults";
import { passed } from "./lib/results";

describe("fault scenarios (short form)", () => {
  for (const scenario of scenarios) {
    it(
      scenario.id,
      async () => {
        const result = await scenario.run("short");
        const failed = result.checks.filter((c) => !c.ok);
        expect(failed, JSON.stringify(result, null, 2)).toEqual([]);
        expect(result.sent).toBeGreaterThan(0);
        expect(result.lost).toBe(0);
        expect(result.duplicated).toBe(0);
        expect(result.outOfOrder).toBe(0);
        expect(result.delivered).toBeGreaterThan(0);
        expect(passed(result)).toBe(true);
      },
      600_000,
    );
  }
});
