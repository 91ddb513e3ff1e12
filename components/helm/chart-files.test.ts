// The chart's generated files are current, values.yaml is valid and complete, and every value
// is documented: values.schema.json and the README table come from ./values-schema.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kubernetesSchemaDir } from "../../test/support/kubernetes-schemas";
import { valueDocs } from "./chart-docs";
import { chartSchemaValidator, chartValues, generatedChartFiles } from "./chart-files";
import type { KubernetesDefinitions } from "./values-schema-file";

const definitions = () =>
  JSON.parse(readFileSync(join(kubernetesSchemaDir(), "_definitions.json"), "utf8")) as KubernetesDefinitions;

/** Dotted paths of every leaf of a values object (maps, lists and resources count as leaves). */
function leaves(node: unknown, path = ""): string[] {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return [path];
  const entries = Object.entries(node as Record<string, unknown>);
  const documentedAsOne = valueDocs().some((d) => d.path === path);
  if (path && (entries.length === 0 || documentedAsOne)) return [path];
  return entries.flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

describe("chart files generated from components/helm", () => {
  it("values.schema.json and the README values table are current (run npm run docs:chart)", async () => {
    for (const [path, content] of Object.entries(await generatedChartFiles(definitions())))
      expect(readFileSync(path, "utf8"), path).toBe(content);
  });

  it("values.yaml is valid against values.schema.json", () => {
    const validate = chartSchemaValidator();
    expect(validate(chartValues()), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("documents every value of values.yaml with a type and a description, and nothing else", () => {
    const documented = valueDocs();
    const paths = documented.map((d) => d.path);
    expect(leaves(chartValues()).sort()).toEqual([...paths].sort());
    for (const doc of documented) {
      expect(doc.description, doc.path).toMatch(/\S{3}/);
      expect(doc.type, doc.path).not.toBe("undefined");
    }
  });

  it("rejects unknown keys everywhere the chart defines the shape", () => {
    const validate = chartSchemaValidator();
    const values = structuredClone(chartValues()) as Record<string, Record<string, unknown>>;
    values.api!.replicas = 3;
    expect(validate(values)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({
      instancePath: "/api",
      params: { additionalProperty: "replicas" },
    });
  });
});
