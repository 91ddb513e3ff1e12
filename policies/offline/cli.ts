// npm run policy -- --stack <name> [--stack <name> ...] [--manifests <dir|file> ...]
//                   [--config <policy-config.json>] [--json]
// Runs every rule of the pack offline (no Pulumi CLI) and exits 1 on any mandatory violation,
// 2 when the input cannot be read or a rule fails.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseErrorLine } from "../../scripts/lib/cli-args";
import { ConfigError } from "../../components/config/issues";
import {
  type Evaluation,
  type PolicyConfig,
  PolicyConfigError,
  evaluate,
  mandatoryViolations,
} from "./evaluate";
import { ManifestError, loadManifests } from "./manifests";
import { formatText, toJson } from "./report";
import { StackBuildError, buildStackGraph } from "./stack-graph";

const USAGE = `usage: npm run policy -- (--stack <name> | --manifests <dir|file>)... [--config <file.json>] [--json]

  --stack <name>        build Pulumi.<name>.yaml's resource graph under Pulumi runtime mocks and check it
  --manifests <path>    check plain Kubernetes YAML (a file, or every .yaml/.yml/.json under a folder)
  --config <file>       policy config, as for pulumi preview --policy-pack-config
                        ({"<rule>": "advisory" | {"enforcementLevel": ..., <settings>}})
  --json                print one JSON report per input instead of text
Exit status: 0 no mandatory violation, 1 mandatory violations, 2 bad input or a rule error.`;

interface Run {
  title: string;
  evaluation: Evaluation;
  notes: string[];
}

export async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseArgs({
      args: argv,
      options: {
        stack: { type: "string", multiple: true },
        manifests: { type: "string", multiple: true },
        config: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`policy: ${parseErrorLine((error as Error).message)}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const stacks = options.stack ?? [];
  const manifests = options.manifests ?? [];
  if (stacks.length + manifests.length === 0) {
    console.error(`nothing to check: give --stack or --manifests\n${USAGE}`);
    return 2;
  }
  const projectDir = resolve(__dirname, "..", "..");
  const runs: Run[] = [];
  try {
    const config = options.config ? (JSON.parse(readFileSync(options.config, "utf8")) as PolicyConfig) : {};
    for (const stack of stacks) {
      const graph = await buildStackGraph(stack, { projectDir });
      const notes = graph.placeholders.length
        ? [`offline stand-ins for secrets not readable here: ${graph.placeholders.join(", ")}`]
        : [];
      runs.push({
        title: `stack ${stack} (${graph.target})`,
        evaluation: evaluate(graph.subjects, { config }),
        notes,
      });
    }
    for (const path of manifests)
      runs.push({
        title: `manifests ${path}`,
        evaluation: evaluate(loadManifests(path), { config }),
        notes: [],
      });
  } catch (error) {
    const known = [ConfigError, StackBuildError, ManifestError, PolicyConfigError, SyntaxError];
    if (known.some((kind) => error instanceof kind) || (error as NodeJS.ErrnoException).code === "ENOENT") {
      console.error((error as Error).message);
      return 2;
    }
    throw error;
  }
  if (options.json)
    console.log(
      JSON.stringify(
        runs.map((r) => toJson(r.title, r.evaluation, r.notes)),
        null,
        2,
      ),
    );
  else console.log(runs.map((r) => formatText(r.title, r.evaluation, r.notes)).join("\n\n"));
  if (runs.some((r) => r.evaluation.errors.length > 0)) return 2;
  return runs.some((r) => mandatoryViolations(r.evaluation).length > 0) ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
