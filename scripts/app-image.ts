// Builds the app image of a Docker stack (default: local) from app/Dockerfile with the stack's
// BASE_IMAGE / BUILD_IMAGE, unless an image with the same inputs is already there.
//   scripts/app-image [--stack local] [--stack-file NAME] [--offline] [--force]
// --offline: the offline preset's base images (chatapi-local/node:24-bookworm*), as scripts/local
// --offline and the tests here use.
import { resolve } from "node:path";
import { ConfigError } from "../components/config/issues";
import { ensureAppImage } from "./lib/app-image";
import { parseCommandLine } from "./lib/cli-args";
import { loadStackPlan } from "./lib/stack-plan";

const root = resolve(__dirname, "..");
const usage = "usage: scripts/app-image [--stack local] [--stack-file NAME] [--offline] [--force]";
const { values } = parseCommandLine("app-image", usage, {
  options: {
    stack: { type: "string", default: "local" },
    "stack-file": { type: "string" },
    force: { type: "boolean", default: false },
    offline: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

async function main() {
  const { plan } = loadStackPlan({
    root,
    stack: values.stack,
    ...(values["stack-file"] ? { stackFile: values["stack-file"] } : {}),
    set: values.offline ? ["images.preset=offline"] : [],
  });
  const app = plan.images.app;
  if (!app.build) {
    console.log(`app image: ${app.ref} (prebuilt, from chatapi:images.app; nothing to build)`);
    return;
  }
  const result = await ensureAppImage(
    {
      ref: app.ref,
      context: resolve(root, app.build.context),
      dockerfile: resolve(root, app.build.dockerfile),
      args: app.build.args,
    },
    { force: values.force, onProgress: (line) => console.log(`  ${line}`) },
  );
  console.log(
    result.built
      ? `app image: built ${result.ref} in ${result.seconds.toFixed(0)} s`
      : `app image: cached (${result.ref}, ${result.seconds.toFixed(1)} s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `app-image: ${(error as Error).message}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
