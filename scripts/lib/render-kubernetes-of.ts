// What scripts/render writes for a Kubernetes stack, for stacks whose config secrets it cannot
// read (the TLS certificate of tls.mode provided): the checkout's own config loader, plan and
// manifest builders, with the secrets given as JSON. Used by scripts/render-all.
//   tsx scripts/lib/render-kubernetes-of.ts <checkout> <stack> <secrets.json> <out dir>
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { stringify } from "yaml";

const [root, stack, secretsFile, out] = process.argv.slice(2) as [string, string, string, string];

const fromCheckout = createRequire(join(root, "package.json"));

function load<T>(...paths: string[]): T {
  const path = paths.find((p) => existsSync(join(root, `${p}.ts`)));
  if (!path) throw new Error(`${root} has none of ${paths.join(", ")}`);
  return fromCheckout(`./${path}`) as T;
}

const configDir = existsSync(join(root, "components", "config")) ? "components/config" : "stacks/config";
const stackFile = load<typeof import("../../components/config/stack-file")>(`${configDir}/stack-file`);
const { loadStackConfig } = load<typeof import("../../components/config/load")>(`${configDir}/load`);
const { buildPlan } = load<typeof import("../../components/plan/build-plan")>("components/plan/build-plan");
const { renderManifests } = load<typeof import("../../components/kubernetes/render/render-manifests")>(
  "components/kubernetes/render/render-manifests",
);
const { secretsScript } = load<typeof import("../../components/kubernetes/render/secrets-script")>(
  "components/kubernetes/render/secrets-script",
);

const secrets = JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>;
const appVersion = stackFile.readAppVersion(root);
const file = stackFile.readStackFile(
  root,
  stack,
  Object.fromEntries(Object.entries(secrets).map(([key, value]) => [`chatapi:${key}`, value])),
);
const config = loadStackConfig({ stack, config: file.config, secretKeys: file.secretKeys, appVersion });
const plan = buildPlan({ config, appVersion });
const rendered = renderManifests(plan);
mkdirSync(out, { recursive: true });
for (const part of rendered.files) {
  if (part.objects.length === 0) continue;
  const body = part.objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n");
  writeFileSync(join(out, part.name), body);
}
writeFileSync(join(out, "create-secrets.sh"), secretsScript(plan, rendered.refs));
