// The alert rules pass `promtool check rules` and their unit tests (`promtool test rules`, real
// promtool 2.42 from Debian); every rule has a firing and a quiet case, and those cases really
// depend on the rule (a rule that never fires, or always fires, fails them); every rule has a
// severity and a one-line runbook; the chart's copies are the same files.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { repoRoot } from "../../test/support/paths";
import { promtool } from "../../test/support/promtool";
import { ALERT_RULES_FILE, BACKUP_RULE_GROUP, DASHBOARD_FILE, loadAlertRules } from "./monitoring-files";

const dir = __dirname;
const TEST_FILES = ["alert-rules.test.yaml", "alert-rules.days.test.yaml"];
const rules = loadAlertRules().groups.flatMap((g) => g.rules);
const scratch = mkdtempSync(join(tmpdir(), "chatapi-rules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

/** Runs the unit tests against a changed copy of the rules. */
async function testWithRules(change: (expr: string) => string) {
  const file = loadAlertRules();
  for (const group of file.groups) for (const rule of group.rules) rule.expr = change(rule.expr);
  writeFileSync(join(scratch, "alert-rules.yaml"), stringify(file));
  for (const name of TEST_FILES) copyFileSync(join(dir, name), join(scratch, name));
  return promtool(["test", "rules", ...TEST_FILES], scratch);
}

describe("alert rules", () => {
  it("pass promtool check rules", async () => {
    const result = await promtool(["check", "rules", ALERT_RULES_FILE]);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.code).toBe(0);
  });

  it("pass their promtool unit tests", async () => {
    const result = await promtool(["test", "rules", ...TEST_FILES], dir);
    expect(result.output).not.toContain("FAILED");
    expect(result.code).toBe(0);
  });

  it("each have a firing case and a quiet case", () => {
    const cases = TEST_FILES.flatMap((name) =>
      (parse(readFileSync(join(dir, name), "utf8")) as RuleTestFile).tests.flatMap(
        (t) => t.alert_rule_test ?? [],
      ),
    );
    const missing = rules.flatMap((rule) => {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      return [
        ...(mine.some((c) => (c.exp_alerts ?? []).length > 0) ? [] : [`${rule.alert}: no firing case`]),
        ...(mine.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${rule.alert}: no quiet case`]),
      ];
    });
    expect(missing).toEqual([]);
  });

  it("fail their tests when a rule never fires, and when it always fires", async () => {
    const never = await testWithRules(() => "vector(1) == 0");
    const always = await testWithRules(() => "vector(1)");
    expect(never.code).not.toBe(0);
    expect(always.code).not.toBe(0);
    for (const rule of rules) {
      expect(never.output, rule.alert).toContain(`alertname: ${rule.alert},`);
      expect(always.output, rule.alert).toContain(`alertname: ${rule.alert},`);
    }
  });

  it("each have a severity, a summary and a one-line runbook", () => {
    expect(rules.length).toBeGreaterThanOrEqual(19);
    for (const rule of rules) {
      expect(["critical", "warning"], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.runbook, rule.alert).toMatch(/^[^\n]{20,}$/);
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it("can leave the backup rules out for a stack without backups", () => {
    const without = loadAlertRules({ backups: false });
    expect(without.groups.map((g) => g.name)).not.toContain(BACKUP_RULE_GROUP);
    expect(loadAlertRules().groups.map((g) => g.name)).toContain(BACKUP_RULE_GROUP);
  });

  it("are the files the Helm chart ships (charts/chatapi/files/)", () => {
    for (const file of [ALERT_RULES_FILE, DASHBOARD_FILE]) {
      const copy = join(repoRoot, "charts", "chatapi", "files", file.split("/").pop()!);
      expect(readFileSync(copy, "utf8"), `${copy} differs from ${file}: copy it`).toBe(
        readFileSync(file, "utf8"),
      );
    }
  });
});
