// The README lists every rule of the pack as it is.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/support/paths";
import { rules } from "../rules";
import { ruleTable, withRuleTable } from "./docs";

describe("README rule table", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");

  it("is the one generated from the rules (run npm run docs:policies)", () => {
    expect(withRuleTable(readme)).toBe(readme);
  });

  it("has a row per rule with its level, severity and targets", () => {
    const table = ruleTable();
    for (const rule of rules)
      expect(table).toContain(`| \`${rule.name}\` | ${rule.enforcementLevel} | ${rule.severity} |`);
    expect(table).toContain("| `docker-pids-limit` | advisory | low | resource | docker |");
  });
});
