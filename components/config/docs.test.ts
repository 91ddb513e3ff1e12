// The README documents every config key with its current defaults.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/support/paths";
import { configTable, withConfigTable } from "./docs";

describe("README config table", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");

  it("is the one generated from the schema and defaults (run npm run docs:config)", () => {
    expect(withConfigTable(readme)).toBe(readme);
  });

  it("has a row for every key, with both environments' defaults", () => {
    const table = configTable();
    for (const key of [
      "chatapi:target",
      "chatapi:api.replicas",
      "chatapi:backup.schedule",
      "chatapi:tlsCertificate",
    ]) {
      expect(table).toContain(`| \`${key}\` |`);
    }
    expect(table).toContain("| `chatapi:api.replicas` | integer 1..50 | `2` | `3` |");
    expect(table).toContain("docker: `false`; kubernetes: `true`");
  });
});
