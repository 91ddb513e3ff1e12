// The short form of the attack suite: every attack once, against real instances and the local
// stack, each asserting its checks and 0 failures. `npm run chaos` runs the full form.
import { describe, expect, it } from "vitest";
import { attacks } from "./attacks";

describe("attacks (short form)", () => {
  for (const attack of attacks) {
    it(`${attack.id}: ${attack.title}`, { timeout: 600_000 }, async () => {
      const result = await attack.run("short");
      console.log(
        `${result.id}: ${result.attempts} attempts; expected ${result.expected}; got ${result.outcome}; failures ${result.failures}`,
      );
      expect(result.id).toBe(attack.id);
      for (const check of result.checks)
        expect.soft(check.ok, `${check.name}: ${check.detail ?? ""}`).toBe(true);
      expect(result.checks.length).toBeGreaterThan(0);
      expect(result.failures).toBe(0);
    });
  }
});
