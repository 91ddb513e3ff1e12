// A Kubernetes stack as the two renders the parity test compares: the Pulumi target's objects
// (renderManifests, the objects the Pulumi program creates) and the chart values derived from
// the same stack, with the names that legitimately differ between the two.
import { type StackConfig } from "../config/types";
import { loadStackConfig } from "../config/load";
import { readAppVersion, readStackFile } from "../config/stack-file";
import { renderManifests } from "../kubernetes/render/render-manifests";
import { buildPlan } from "../plan/build-plan";
import type { DeploymentPlan } from "../plan/types";
import { type ChartValues, chartValuesFor } from "./chart-values";
import type { Manifest, NormaliseOptions } from "./parity";

export interface StackSource {
  /** The Pulumi.<file>.yaml to read. */
  file: string;
  /** The stack's name (default: file): release names, labels and prefixes follow it. */
  stack?: string;
  /** Config keys replaced or added (chatapi:<key> → config text), as `pulumi config set` would. */
  changes?: Record<string, string>;
  /** Secret config values (chatapi:<key> → value). */
  secrets?: Record<string, string>;
}

export function loadStack(
  projectDir: string,
  source: StackSource,
): { config: StackConfig; plan: DeploymentPlan } {
  const appVersion = readAppVersion(projectDir);
  const file = readStackFile(projectDir, source.file, source.secrets);
  const config = loadStackConfig({
    stack: source.stack ?? source.file,
    config: { ...file.config, ...source.changes },
    secretKeys: file.secretKeys,
    appVersion,
    unreadableSecrets: file.encryptedKeys,
  });
  return { config, plan: buildPlan({ config, appVersion }) };
}

/** The chart's full name for a release: <release>-chatapi, or the release name when it contains chatapi. */
export const chartFullname = (release: string) =>
  release.includes("chatapi") ? release : `${release}-chatapi`;

export interface ParityInputs {
  /** Helm release name and namespace to render the chart with. */
  release: string;
  namespace: string;
  values: ChartValues;
  /** The Pulumi target's objects. */
  pulumi: Manifest[];
  options: { pulumi: NormaliseOptions; helm: NormaliseOptions };
}

/** What to render and how to compare, for one stack; the release is named after the stack. */
export function parityInputs(stack: { config: StackConfig; plan: DeploymentPlan }): ParityInputs {
  const { plan } = stack;
  const rendered = renderManifests(plan);
  const prefixes = [plan.prefix, chartFullname(plan.stack)];
  // The render names ConfigMaps after their content (a change rolls the pods); the chart keeps
  // the name and rolls the pods with a checksum annotation instead.
  const renames = Object.fromEntries(
    Object.entries(rendered.refs.configMaps).map(([role, name]) => [String(name), `${plan.prefix}-${role}`]),
  );
  return {
    release: plan.stack,
    namespace: plan.kubernetes.namespace,
    values: chartValuesFor(plan, stack.config.settings, rendered.refs),
    pulumi: rendered.files.flatMap((f) => f.objects) as Manifest[],
    options: { pulumi: { prefixes, renames }, helm: { prefixes } },
  };
}
