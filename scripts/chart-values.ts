// Prints the values of charts/chatapi that deploy what a Kubernetes stack of the Pulumi program
// deploys (the values the parity test renders the chart with), e.g. to move a stack to Helm:
//   npm run chart:values -- --stack prod > values-prod.yaml
// Secrets are named as scripts/render's create-secrets.sh names them; no value is printed.
import { resolve } from "node:path";
import { stringify } from "yaml";
import { ChartValuesError, chartValuesFor } from "../components/helm/chart-values";
import { loadStack } from "../components/helm/stack-parity";
import { ConfigError } from "../components/config/issues";
import { parseCommandLine } from "./lib/cli-args";

const usage =
  "usage: npm run chart:values -- [--stack prod]   (chart values for Pulumi.<stack>.yaml on stdout)";
const { values } = parseCommandLine("chart:values", usage, {
  options: { stack: { type: "string", default: "prod" }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

try {
  const stack = loadStack(resolve(__dirname, ".."), { file: values.stack! });
  const chartValues = chartValuesFor(stack.plan, stack.config.settings);
  process.stdout.write(
    [
      `# charts/chatapi values derived from Pulumi.${values.stack}.yaml (npm run chart:values).`,
      `# Install as release "${values.stack}" in namespace ${stack.plan.kubernetes.namespace}; the Secrets named`,
      "# below are the ones scripts/render's create-secrets.sh creates.",
      stringify(chartValues, { lineWidth: 0 }),
    ].join("\n"),
  );
} catch (error) {
  if (error instanceof ConfigError || error instanceof ChartValuesError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
