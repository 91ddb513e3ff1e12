// The chart as users get it: `helm package` (as CI runs it) makes chatapi-<version>.tgz holding the
// chart and its schema, and that archive works as a subchart of another chart (a parent's `global`
// values pass the schema). Nothing is installed: helm template only.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHART, helm, parseManifests } from "../../test/support/helm";

const chart = parse(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as { name: string; version: string };
const work = mkdtempSync(join(tmpdir(), "chatapi-helm-package-"));
const archive = join(work, `${chart.name}-${chart.version}.tgz`);
let packaged: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  packaged = await helm(["package", CHART, "--destination", work]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A parent chart with the packaged chart as its dependency, and values for both. */
function parentChart(values: object): string {
  const dir = join(work, `parent-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(join(dir, "charts"), { recursive: true });
  writeFileSync(
    join(dir, "Chart.yaml"),
    `apiVersion: v2\nname: platform\nversion: 1.0.0\ndependencies:\n  - name: ${chart.name}\n    version: ${chart.version}\n    repository: file://${CHART}\n`,
  );
  copyFileSync(archive, join(dir, "charts", `${chart.name}-${chart.version}.tgz`));
  writeFileSync(join(dir, "values.yaml"), JSON.stringify(values));
  return dir;
}

describe("helm package", () => {
  it("packages the chart with its values schema, templates and README, and without its CI values", () => {
    expect(packaged.code, packaged.stderr).toBe(0);
    expect(packaged.stdout).toContain(`Successfully packaged chart and saved it to: ${archive}`);
    const files = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" }).split("\n").filter(Boolean);
    for (const file of ["Chart.yaml", "values.yaml", "values.schema.json", "README.md", "templates/api.yaml"])
      expect(files).toContain(`chatapi/${file}`);
    expect(files.filter((f) => /\/(\.git|node_modules)\//.test(f))).toEqual([]);
  });

  it("works as a subchart: a parent's global values pass the schema, its values reach the chart", async () => {
    const dir = parentChart({
      global: { imageRegistry: "registry.example.com", team: "chat" },
      chatapi: { domain: "chat.platform.example.com" },
    });
    const result = await helm(["template", "platform", dir, "--namespace", "chat"]);
    expect(result.code, result.stderr).toBe(0);
    const nginxConfig = parseManifests(result.stdout).find(
      (m) => m.kind === "ConfigMap" && JSON.stringify(m).includes("server_name"),
    );
    expect(JSON.stringify(nginxConfig)).toContain("server_name chat.platform.example.com;");
  });

  it("still refuses an unknown value beside global (the schema stays closed)", async () => {
    const dir = parentChart({ global: { team: "chat" }, chatapi: { replicas: 3 } });
    const result = await helm(["template", "platform", dir, "--namespace", "chat"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/additional properties 'replicas' not allowed|replicas/);
  });
});
