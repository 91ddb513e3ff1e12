// The release switch's dynamic provider as `pulumi up` carries it in the state (the program
// under ts-node, Pulumi's closure serializer) and as Pulumi's dynamic provider host loads it
// (require-from-string, `.handler()`): what runs in a real deploy, not the module's own copy.
import { createRequire } from "node:module";
import { join } from "node:path";
import type { releaseSwitchProvider } from "../../components/docker/release-switch-resource";
import { run } from "../../toolbox/exec";
import { repoRoot } from "./paths";

/** What Pulumi's dynamic provider host loads a serialized provider with (a dependency of @pulumi/pulumi). */
const requireFromString = createRequire(join(repoRoot, "package.json"))("require-from-string") as (
  code: string,
) => { handler: () => typeof releaseSwitchProvider };

export async function serializedReleaseSwitch(): Promise<typeof releaseSwitchProvider> {
  const serialize = [
    'const pulumi = require("@pulumi/pulumi");',
    'const { releaseSwitchProvider } = require("./components/docker/release-switch-resource");',
    "pulumi.runtime.serializeFunction(() => releaseSwitchProvider, { allowSecrets: true })",
    "  .then((f) => process.stdout.write(f.text));",
  ].join("\n");
  const serialized = await run("node", ["-r", "ts-node/register/transpile-only", "-e", serialize], {
    cwd: repoRoot,
    env: { TS_NODE_PROJECT: join(repoRoot, "tsconfig.json") },
  });
  return requireFromString(serialized.stdout).handler();
}
