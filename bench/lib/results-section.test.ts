// A marked section of RESULTS.md: replaced in place by its measurement, kept by npm run bench.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keptSections, replaceSection } from "./results-section";

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "chatapi-results-")), "RESULTS.md");
  writeFileSync(path, text);
  return path;
};

describe("RESULTS.md sections", () => {
  it("appends a section once, then replaces it in place", () => {
    const path = file("# Bench\n\ntables\n");
    replaceSection(path, "redis-cluster", "## Redis Cluster\n\nfirst");
    replaceSection(path, "redis-cluster", "## Redis Cluster\n\nsecond");
    expect(readFileSync(path, "utf8")).toBe(
      "# Bench\n\ntables\n\n<!-- redis-cluster:start -->\n## Redis Cluster\n\nsecond\n<!-- redis-cluster:end -->\n",
    );
  });

  it("gives back every marked section for the rewrite, and nothing for a file without any", () => {
    const path = file(
      "old tables\n<!-- a:start -->\nA\n<!-- a:end -->\nmore\n<!-- b-2:start -->\nB\n<!-- b-2:end -->\n",
    );
    expect(keptSections(path)).toBe(
      "\n<!-- a:start -->\nA\n<!-- a:end -->\n\n<!-- b-2:start -->\nB\n<!-- b-2:end -->\n",
    );
    expect(keptSections(file("# only generated tables\n"))).toBe("");
    expect(keptSections(join(tmpdir(), "no-such-results.md"))).toBe("");
  });
});
