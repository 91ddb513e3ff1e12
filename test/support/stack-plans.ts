// A shipped stack file's deployment plan with its config changed and config secrets given as
// chatapi:<key>.
import { loadStackConfig } from "../../components/config/load";
import { readStackFile } from "../../components/config/stack-file";
import { buildPlan } from "../../components/plan/build-plan";
import type { DeploymentPlan } from "../../components/plan/types";
import { repoRoot } from "./paths";

/** `changes`: raw config entries (chatapi:<key> → the JSON or text `pulumi config` stores). */
export function planWith(
  stack: string,
  changes: Record<string, string> = {},
  secrets: Record<string, string> = {},
): DeploymentPlan {
  const file = readStackFile(repoRoot, stack, secrets);
  const config = loadStackConfig({
    stack,
    config: { ...file.config, ...changes },
    secretKeys: file.secretKeys,
    appVersion: "1.0.0",
  });
  return buildPlan({ config, appVersion: "1.0.0" });
}

/** `settings`: whole top-level keys as values (each replaces the stack file's, as `pulumi config set` does). */
export const planFor = (
  stack: string,
  settings: Record<string, unknown> = {},
  secrets: Record<string, string> = {},
): DeploymentPlan =>
  planWith(
    stack,
    Object.fromEntries(Object.entries(settings).map(([k, v]) => [`chatapi:${k}`, JSON.stringify(v)])),
    secrets,
  );
