// Regenerates charts/chatapi/values.schema.json and the values table of charts/chatapi/README.md.
//   npm run docs:chart
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { generatedChartFiles } from "../components/helm/chart-files";
import type { KubernetesDefinitions } from "../components/helm/values-schema-file";
import { kubernetesSchemaDir } from "../test/support/kubernetes-schemas";

async function main() {
  const kubernetes = JSON.parse(
    readFileSync(join(kubernetesSchemaDir(), "_definitions.json"), "utf8"),
  ) as KubernetesDefinitions;
  for (const [path, content] of Object.entries(await generatedChartFiles(kubernetes))) {
    const before = readFileSync(path, "utf8").toString();
    if (before !== content) writeFileSync(path, content);
    console.log(`${relative(process.cwd(), path)}: ${before === content ? "already up to date" : "updated"}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
