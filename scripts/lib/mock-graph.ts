// Prints the resource graph the Pulumi program of a checkout registers for one stack under
// runtime mocks, as JSON: per resource its URN (type chain and name), aliases, options,
// dependencies and inputs (secrets unwrapped). Two checkouts that print the same graph make
// `pulumi up` see the same resources with the same inputs: nothing replaced, nothing updated.
// Loads the checkout's own modules (its test support and program), so an older commit is
// judged by its own code. Used by scripts/render-all.
//   tsx scripts/lib/mock-graph.ts <checkout> <stack> [secrets.json]
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [root, stack, secretsFile] = process.argv.slice(2) as [string, string, string?];

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getAliasesList?(): string[];
  getAliasspecsList?(): { toObject(): unknown }[];
  getDeletebeforereplace(): boolean;
  getRetainondelete?(): boolean;
  getProtect?(): boolean;
  getIgnorechangesList(): string[];
}

/** Loads a module as the checkout resolves it (its own node_modules and sources). */
const fromCheckout = createRequire(join(root, "package.json"));

/** The first of these modules the checkout has (a module may have moved between commits). */
function load<T>(...paths: string[]): T {
  const path = paths.find((p) => existsSync(join(root, `${p}.ts`)));
  if (!path) throw new Error(`${root} has none of ${paths.join(", ")}`);
  return fromCheckout(`./${path}`) as T;
}

async function main() {
  const pulumi = fromCheckout("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const mocks = load<typeof import("../../test/support/pulumi-mocks")>("test/support/pulumi-mocks");
  const state = mocks.installMocks();
  const requests = new Map<string, Record<string, unknown>>();
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, callback: unknown) => unknown;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const parentType = req.getParent() ? req.getParent().split("::")[2] : "";
    const type = parentType ? `${parentType}$${req.getType()}` : req.getType();
    requests.set(`${req.getType()}::${req.getName()}`, {
      urn: `urn:pulumi:${stack}::chatapi::${type}::${req.getName()}`,
      custom: req.getCustom(),
      aliases: [
        ...(req.getAliasesList?.() ?? []),
        ...(req.getAliasspecsList?.() ?? []).map((a) => a.toObject()),
      ],
      deleteBeforeReplace: req.getDeletebeforereplace(),
      retainOnDelete: req.getRetainondelete?.() ?? false,
      protect: req.getProtect?.() ?? false,
      ignoreChanges: req.getIgnorechangesList(),
      dependsOn: req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2)),
    });
    return original(req, callback);
  };

  const stackFile = load<typeof import("../../components/config/stack-file")>(
    "components/config/stack-file",
    "stacks/config/stack-file",
  );
  const { runProgramUnderMocks } =
    load<typeof import("../../test/support/mock-program")>("test/support/mock-program");
  const secrets = (secretsFile ? JSON.parse(readFileSync(secretsFile, "utf8")) : {}) as Record<
    string,
    string
  >;
  const file = stackFile.readStackFile(
    root,
    stack,
    Object.fromEntries(Object.entries(secrets).map(([key, value]) => [`chatapi:${key}`, value])),
  );
  await runProgramUnderMocks(state, { stack, config: file.config, secretKeys: file.secretKeys });
  const graph = state.captured.map((r) => ({
    ...requests.get(`${r.type}::${r.name}`),
    inputs: mocks.plain(r.inputs),
  }));
  // Components register before the mocks see them; every registration is in `requests`.
  const customs = new Set(state.captured.map((r) => `${r.type}::${r.name}`));
  const components = [...requests.entries()].filter(([key]) => !customs.has(key)).map(([, r]) => r);
  const byUrn = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    String(a.urn).localeCompare(String(b.urn));
  const text = JSON.stringify({ components: components.sort(byUrn), resources: graph.sort(byUrn) }, null, 2);
  // The app image's build context is the checkout: the same in every clone for `pulumi up`.
  process.stdout.write(`${text.replaceAll(root, "<checkout>")}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
