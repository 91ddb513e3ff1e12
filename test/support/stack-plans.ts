// A shipped stack file's deployment plan with settings changed (each a whole top-level key, as
// `pulumi config set` stores it) and config secrets given as chatapi:<key>.
import { loadStackConfig } from "../../components/config/load";
import { readStackFile } from "../../components/config/stack-file";
import { buildPlan } from "../../components/plan/build-plan";
import type { DeploymentPlan } from "../../components/plan/types";
import { repoRoot } from "./paths";

export function planFor(
  stack: string,
  settings: Record<string, unknown> = {},
  secrets: Record<string, string> = {},
): DeploymentPlan {
  const file = readStackFile(repoRoot, stack, secrets);
  const config = loadStackConfig({
    stack,
    config: {
      ...file.config,
      ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [`chatapi:${k}`, JSON.stringify(v)])),
    },
    secretKeys: file.secretKeys,
    appVersion: "1.0.0",
  });
  return buildPlan({ config, appVersion: "1.0.0" });
}
