// Builds the app image of a Docker stack (default: local) from app/Dockerfile with the stack's
// BASE_IMAGE / BUILD_IMAGE, unless an image with the same inputs is already there.
//   scripts/app-image [--stack local] [--stack-file NAME] [--force]
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../components/config/issues";
import { ensureAppImage } from "./lib/app-image";
import { loadStackPlan } from "./lib/stack-plan";

const root = resolve(__dirname, "..");
const { values } = parseArgs({
  options: {
    stack: { type: "string", default: "local" },
    "stack-file": { type: "string" },
    force: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: scripts/app-image [--stack local] [--stack-file NAME] [--force]");
  process.exit(0);
}

async function main() {
  const { plan } = loadStackPlan({
    root,
    stack: values.stack,
    ...(values["stack-file"] ? { stackFile: values["stack-file"] } : {}),
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
