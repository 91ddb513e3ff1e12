// Writes a Kubernetes stack's objects as plain YAML for kubectl / GitOps, without the Pulumi
// CLI: the same plan and manifest builders as the Pulumi program. Secrets are not rendered:
// create-secrets.sh creates them in the cluster (see README, "Rendered YAML").
//   scripts/render [--stack prod] [--out rendered]
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { parseCommandLine } from "./lib/cli-args";
import { renderManifests } from "../components/kubernetes/render/render-manifests";
import { secretsScript } from "../components/kubernetes/render/secrets-script";
import { buildPlan } from "../components/plan/build-plan";
import { ConfigError } from "../components/config/issues";
import { loadStackConfig } from "../components/config/load";
import { readAppVersion, readStackFile } from "../components/config/stack-file";

const root = resolve(__dirname, "..");
const usage = "usage: scripts/render [--stack prod] [--out rendered]   (writes <out>/<stack>/kubernetes/)";
const { values } = parseCommandLine("render", usage, {
  options: {
    stack: { type: "string", default: "prod" },
    out: { type: "string", default: join(root, "rendered") },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const stack = values.stack;

try {
  const appVersion = readAppVersion(root);
  const file = readStackFile(root, stack);
  const config = loadStackConfig({
    stack,
    config: file.config,
    secretKeys: file.secretKeys,
    appVersion,
    unreadableSecrets: file.encryptedKeys,
  });
  const plan = buildPlan({ config, appVersion });
  const rendered = renderManifests(plan);
  const dir = join(resolve(values.out), stack, "kubernetes");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const part of rendered.files) {
    if (part.objects.length === 0) continue;
    const header = [
      `# Rendered by scripts/render from Pulumi.${stack}.yaml: ${part.description}.`,
      "# Secret objects are not in these files: create them with create-secrets.sh.",
    ].join("\n");
    const body = part.objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n");
    writeFileSync(join(dir, part.name), `${header}\n${body}`);
    console.log(
      `${relative(process.cwd(), join(dir, part.name))}: ${part.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`,
    );
  }
  const script = join(dir, "create-secrets.sh");
  writeFileSync(script, secretsScript(plan, rendered.refs));
  chmodSync(script, 0o755);
  console.log(
    `${relative(process.cwd(), script)}: creates Secret/${rendered.refs.appSecret}${plan.tls.mode === "acme" ? "" : ` and Secret/${rendered.refs.tlsSecret}`}`,
  );
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
