// Renders a Docker stack (default: local) as a docker-compose file, with its secrets and the
// files its containers mount, for a Docker host driven without Pulumi. See README, "Compose
// on a production Docker host".
//   scripts/render-compose [--stack local] [--stack-file NAME] [--set key.path=value]...
//                          [--secret-file key=path]... [--out DIR]
import { chmodSync, copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../components/config/issues";
import { parseCommandLine } from "./lib/cli-args";
import { writeComposeStack } from "./lib/compose-files";
import { stackDir } from "./lib/stack-dir";
import { loadStackPlan, readConfigSecrets } from "./lib/stack-plan";

const usage = `usage: scripts/render-compose [--stack local] [--stack-file NAME] [--set key.path=value]...
                             [--secret-file key=path]... [--out DIR]
  --stack         stack name: names every container, network and volume (chatapi-<stack>-...)
  --stack-file    read Pulumi.<NAME>.yaml (default: the stack name)
  --set           override a chatapi: config key, e.g. --set nginx.httpsPort=9443
  --secret-file   a config secret from a file, e.g. --secret-file tlsCertificate=fullchain.pem
                  (kept in <out>/secrets/config/<key>; files already there are used too)
  --out           folder to write (default: ~/.cache/chatapi/stacks/<stack>)`;

const root = resolve(__dirname, "..");
const { values } = parseCommandLine("render-compose", usage, {
  options: {
    stack: { type: "string", default: "local" },
    "stack-file": { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    "secret-file": { type: "string", multiple: true, default: [] },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

async function main() {
  const dir = resolve(values.out ?? stackDir(values.stack));
  const configDir = join(dir, "secrets", "config");
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  for (const entry of values["secret-file"]) {
    const eq = entry.indexOf("=");
    if (eq <= 0)
      throw new Error(`--secret-file ${entry}: expected key=path (e.g. tlsCertificate=fullchain.pem)`);
    const target = join(configDir, entry.slice(0, eq));
    copyFileSync(resolve(entry.slice(eq + 1)), target);
    chmodSync(target, 0o600);
  }
  const { plan, config } = loadStackPlan({
    root,
    stack: values.stack,
    ...(values["stack-file"] ? { stackFile: values["stack-file"] } : {}),
    set: values.set,
    secrets: readConfigSecrets(configDir),
  });
  // The release id from the image's reference: `scripts/local up --dir` renders it again with
  // the image's ID once the image is on the engine.
  const out = await writeComposeStack(plan, config, dir, { appImage: plan.images.app.ref });
  const services = Object.keys(out.rendered.compose.services);
  console.log(`${out.composeFile}: ${services.length} services (${services.join(", ")})`);
  console.log(`secrets: ${join(dir, "secrets")} (mode 600; the admin API key is ${out.adminApiKeyFile})`);
  if (out.caFile) console.log(`CA certificate (self-signed TLS): ${out.caFile}`);
  const app = plan.images.app;
  if (app.build)
    console.log(
      `app image ${app.ref}: build it first (scripts/app-image --stack ${values.stack}, or docker build -f app/Dockerfile ...)`,
    );
  console.log(
    `start (on the Docker host, from a checkout): scripts/local up --stack ${values.stack} --dir ${dir}` +
      `${values["stack-file"] ? ` --stack-file ${values["stack-file"]}` : ""}${values.set.map((s) => ` --set ${s}`).join("")}`,
  );
  console.log(
    `new app versions: scripts/local deploy --stack ${values.stack} --dir ${dir} --image REF (docs/DEPLOYS.md)`,
  );
  for (const note of out.notes) console.log(`note: ${note}`);
}

main().catch((error: unknown) => {
  const hint = `\nWithout Pulumi, give a config secret with --secret-file <key>=<path> (kept in ${join(resolve(values.out ?? stackDir(values.stack)), "secrets", "config")}/<key>).`;
  console.error(
    error instanceof ConfigError
      ? `${error.message}${/--secret/.test(error.message) ? hint : ""}`
      : `render-compose: ${(error as Error).message}`,
  );
  process.exit(error instanceof ConfigError ? 2 : 1);
});
