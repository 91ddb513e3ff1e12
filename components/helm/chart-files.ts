// The chart files generated from code: values.schema.json (from ./values-schema.ts plus the
// Kubernetes definitions it uses) and the README's values table (from the schema and
// values.yaml). `npm run docs:chart` writes them; a unit test checks they are current.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import { format } from "prettier";
import { parse } from "yaml";
import { withValuesTable } from "./chart-docs";
import { type KubernetesDefinitions, valuesSchemaDocument } from "./values-schema-file";

export const CHART_DIR = join(__dirname, "..", "..", "charts", "chatapi");

export function chartValues(): unknown {
  return parse(readFileSync(join(CHART_DIR, "values.yaml"), "utf8"));
}

/** The generated files' expected contents, by path. */
export async function generatedChartFiles(
  kubernetes: KubernetesDefinitions,
): Promise<Record<string, string>> {
  const schema = JSON.stringify(valuesSchemaDocument(kubernetes));
  const readme = readFileSync(join(CHART_DIR, "README.md"), "utf8");
  return {
    [join(CHART_DIR, "values.schema.json")]: await format(schema, { parser: "json" }),
    [join(CHART_DIR, "README.md")]: withValuesTable(readme, chartValues()),
  };
}

let validator: ValidateFunction | undefined;

/** Validates values against the chart's values.schema.json as helm does (ajv, draft 2020-12). */
export function chartSchemaValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    for (const name of ["int32", "int64", "double", "byte"]) ajv.addFormat(name, true);
    validator = ajv.compile(
      JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")) as object,
    );
  }
  return validator;
}
