// The local Docker stack in one command (npm run local / npm run local:down), and new app
// versions on it. See README, "Local stack", and docs/DEPLOYS.md.
//   (every command: [--dir DIR] the stack's folder, default ~/.cache/chatapi/stacks/<stack>)
//   scripts/local up       [--stack local] [--stack-file NAME] [--set key.path=value]... [--monitoring] [--alertmanager]
//                          [--engine auto|compose|pulumi] [--no-smoke] [--show-admin-key] [--timeout 600] [--no-wait]
//                          [--offline] [--skip-setup]
//   scripts/local deploy   --image REF [--stack local] [--set key.path=value]... [--no-wait] [--no-smoke]
//   scripts/local rollback [--to RELEASE] [--stack local] [--no-wait] [--no-smoke]
//   scripts/local releases [--stack local]
//   scripts/local down     [--stack local] [--volumes]
//   scripts/local status   [--stack local]          (exit 1 when a container is unhealthy or failed)
//   scripts/local logs     [service] [-f] [--json] [--tail 100|all] [--since 10m] [--stack local]
//   scripts/local backup   [--stack local]          (one backup now: volume, and S3 when configured)
//   scripts/local restore  FILE|NAME|s3://BUCKET/KEY [--force] [--stack local]
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { DeploymentPlan } from "../components/plan/types";
import { ConfigError } from "../components/config/issues";
import { readStackFile } from "../components/config/stack-file";
import { ensureAppImage } from "./lib/app-image";
import { parseCommandLine, usageError } from "./lib/cli-args";
import { findCompose } from "./lib/compose-cli";
import { LockHeldError } from "./lib/file-lock";
import { chooseImageSource } from "./lib/image-source";
import { ensurePlanImages } from "./lib/local-images";
import { type EngineName, chooseEngine } from "./lib/local-engine";
import { showLogs } from "./lib/local-logs";
import {
  type LocalContext,
  type PreparedRelease,
  type StackInputs,
  type SwapResult,
  describeReleases,
  lockStack,
  makeLive,
  prepareRelease,
  prepareRollback,
  readInputs,
  readReleases,
  saveInputs,
  startOwnServices,
  startStores,
} from "./lib/local-releases";
import { pulumiDown, pulumiUp } from "./lib/pulumi-local";
import { DeployFailure } from "./lib/release-deploy";
import { liveRelease } from "./lib/releases";
import { docker, run } from "../toolbox/exec";
import { runSmoke } from "./lib/smoke";
import { backupStack, BackupCommandError, restoreStack } from "./lib/stack-backup";
import { healthProblems, stackContainers, waitForStack } from "./lib/stack-health";
import { stackDir } from "./lib/stack-dir";
import { loadStackPlan, readConfigSecrets } from "./lib/stack-plan";

const root = resolve(__dirname, "..");
/** The header comment above, as the usage. */
const usage = (() => {
  const lines = readFileSync(__filename, "utf8").split("\n");
  const end = lines.findIndex((line, i) => i > 2 && !line.startsWith("//"));
  return (
    "usage:\n" +
    lines
      .slice(3, end)
      .join("\n")
      .replace(/^\/\/ ?/gm, "")
  );
})();
const { values, positionals } = parseCommandLine("local", usage, {
  allowPositionals: true,
  options: {
    stack: { type: "string", default: "local" },
    dir: { type: "string" },
    "stack-file": { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    engine: { type: "string", default: "auto" },
    image: { type: "string" },
    to: { type: "string" },
    volumes: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
    "no-smoke": { type: "boolean", default: false },
    "no-wait": { type: "boolean", default: false },
    "show-admin-key": { type: "boolean", default: false },
    monitoring: { type: "boolean", default: false },
    alertmanager: { type: "boolean", default: false },
    offline: { type: "boolean", default: false },
    "skip-setup": { type: "boolean", default: false },
    timeout: { type: "string", default: "600" },
    follow: { type: "boolean", short: "f", default: false },
    json: { type: "boolean", default: false },
    tail: { type: "string", default: "100" },
    since: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
const COMMANDS = ["up", "deploy", "rollback", "releases", "down", "status", "logs", "backup", "restore"];
const command = positionals[0] ?? "up";
const stack = values.stack;
const dir = values.dir ? resolve(values.dir) : stackDir(stack);
const started = Date.now();
const say = (line: string) =>
  console.log(`[local ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}`);
const tilde = (path: string) => path.replace(new RegExp(`^${homedir()}/`), "~/");
const ctx: LocalContext = { stack, dir, engine: {}, say };

if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!COMMANDS.includes(command))
  usageError("local", `unknown command "${command}" (one of: ${COMMANDS.join(", ")})`, usage);
if (!["auto", "compose", "pulumi"].includes(values.engine))
  usageError("local", `--engine must be auto, compose or pulumi, not "${values.engine}"`, usage);
if (!/^[1-9][0-9]*$/.test(values.timeout))
  usageError("local", `--timeout must be a number of seconds, not "${values.timeout}"`, usage);
if (command !== "deploy" && values.image)
  usageError("local", `--image is for deploy (scripts/local deploy --image REF), not ${command}`, usage);
if (command !== "rollback" && values.to)
  usageError("local", `--to is for rollback (scripts/local rollback --to RELEASE), not ${command}`, usage);
if (command === "deploy" && !values.image)
  usageError("local", "deploy: --image REF is required (the app image to deploy, e.g. chatapi:1.0.1)", usage);

const engineFile = join(dir, "engine");
const engineOf = (): EngineName =>
  (existsSync(engineFile) ? readFileSync(engineFile, "utf8").trim() : "compose") as EngineName;

/** Every image the plan runs is on the engine: bases pulled or made, then the app image built. */
async function ensureImages(plan: DeploymentPlan): Promise<void> {
  await ensurePlanImages(
    plan,
    {
      present: async (ref) =>
        (await run("docker", ["image", "inspect", ref], { reject: false })).exitCode === 0,
      pull: async (ref) => {
        await run("docker", ["pull", ref]);
      },
      makeOffline: async () => {
        await run(join(root, "scripts", "images"), [], { onLine: (line) => say(`  ${line}`) });
      },
      build: async (key, ref, recipe) => {
        const result = await ensureAppImage(
          {
            ref,
            context: resolve(root, recipe.context),
            dockerfile: resolve(root, recipe.dockerfile),
            args: recipe.args,
          },
          { onProgress: (line) => say(`  ${line}`) },
        );
        say(`image ${key}: ${ref} ${result.built ? `built in ${result.seconds.toFixed(0)} s` : "cached"}`);
      },
    },
    say,
  );
}

let notedHost = false;

/** The stack's plan from its inputs (the stack file, overrides, config secrets in its folder). */
function planOf(inputs: StackInputs) {
  const { plan, config } = loadStackPlan({
    root,
    stack,
    stackFile: inputs.stackFile,
    set: inputs.set,
    secrets: readConfigSecrets(join(dir, "secrets", "config")),
  });
  if (plan.target !== "docker")
    throw new Error(`stack ${stack} targets ${plan.target}: scripts/local runs Docker stacks`);
  // chatapi:docker.host says how Pulumi reaches the engine from elsewhere; compose runs on the
  // engine the docker CLI picks (DOCKER_HOST, else the current docker context).
  if (plan.docker.host && !notedHost) {
    notedHost = true;
    say(
      `note: the stack file names the engine ${plan.docker.host} (for Pulumi); compose runs on the docker CLI's engine (DOCKER_HOST, else the current docker context)`,
    );
  }
  return { plan, config };
}

async function render(inputs: StackInputs): Promise<PreparedRelease> {
  const { plan, config } = planOf(inputs);
  await ensureImages(plan);
  return prepareRelease(ctx, plan, config, inputs);
}

/** The smoke check through nginx, and where the stack answers. */
async function smokeAndReport(plan: DeploymentPlan, caFile: string | undefined, adminApiKeyFile: string) {
  if (!values["no-smoke"]) {
    say(`smoke check through ${plan.urls.https}`);
    const result = await runSmoke(
      {
        url: plan.urls.https,
        apiPrefix: plan.loadBalancer.apiPrefix,
        adminApiKey: readFileSync(adminApiKeyFile, "utf8").trim(),
        ...(caFile && existsSync(caFile) ? { ca: readFileSync(caFile, "utf8") } : {}),
      },
      (line) => say(`  ${line}`),
    );
    say(`smoke check passed (${result.checks} checks)`);
  }
}

/** scripts/setup --for local: what the stack needs on this machine (cached after the first run). */
function setUpMachine(): void {
  if (values["skip-setup"] || process.env.CHATAPI_LOCAL_SETUP_DONE) return;
  console.log(
    "[local] scripts/setup --for local (installs and builds what is missing; cached after the first run)",
  );
  const setup = spawnSync("bash", [join(root, "scripts", "setup"), "--for", "local"], { stdio: "inherit" });
  if (setup.status !== 0) process.exit(setup.status ?? 1);
}

/** Does the stack file or a --set choose images.preset (then no probe decides it)? */
function presetChosen(stackFile: string): boolean {
  if (values.set.some((s) => /^(chatapi:)?images\.preset=/.test(s))) return true;
  const images = readStackFile(root, stackFile).config["chatapi:images"];
  return images !== undefined && /"preset"/.test(images);
}

/**
 * The stack's inputs with its images' source: upstream by default, the offline preset when asked
 * or when the upstream registry does not answer. Kept with the stack, so deploys use the same.
 */
async function inputsWithImages(engine: EngineName, inputs: StackInputs): Promise<StackInputs> {
  if (values.offline) {
    say("images: offline (--offline)");
    return { ...inputs, set: [...inputs.set, "images.preset=offline"] };
  }
  if (presetChosen(inputs.stackFile)) {
    say(
      `images: ${planOf(inputs).config.settings.images.preset} (images.preset in Pulumi.${inputs.stackFile}.yaml or --set)`,
    );
    return inputs;
  }
  const choice = await chooseImageSource(planOf(inputs).plan);
  say(`images: ${choice.offline ? "offline" : "upstream"} (${choice.reason})`);
  if (!choice.offline) return inputs;
  if (engine === "pulumi")
    throw new Error(
      `the pulumi engine deploys Pulumi.${stack}.yaml as it is: set the offline images there (pulumi config set --path chatapi:images.preset offline --stack ${stack}), or use --engine compose`,
    );
  return { ...inputs, set: [...inputs.set, "images.preset=offline"] };
}

async function up(): Promise<void> {
  setUpMachine();
  const choice = await chooseEngine(values.engine as EngineName | "auto");
  say(`engine: ${choice.engine} (${choice.reason})`);
  if (choice.engine === "compose") {
    const compose = await findCompose();
    say(`compose: ${compose.compose.command} (${compose.reason})`);
  }
  const inputs = await inputsWithImages(choice.engine, {
    stackFile: values["stack-file"] ?? stack,
    // --monitoring: the stack's Prometheus and exporters (chatapi:monitoring.enabled);
    // --alertmanager: also Alertmanager (monitoring.alertmanager.enabled), so monitoring too.
    set: [
      ...values.set,
      ...(values.monitoring || values.alertmanager ? ["monitoring.enabled=true"] : []),
      ...(values.alertmanager ? ["monitoring.alertmanager.enabled=true"] : []),
    ],
  });
  const { plan } = planOf(inputs);
  say(`plan: stack ${stack} (Pulumi.${inputs.stackFile}.yaml)`);
  let caFile: string | undefined;
  let adminApiKeyFile: string;
  let expected: string[] | undefined;
  if (choice.engine === "pulumi" && choice.pulumi) {
    await ensureImages(plan);
    ({ caFile, adminApiKeyFile } = await pulumiUp({ ...choice.pulumi, root, stack, dir, report: say }));
  } else {
    const lock = await lockStack(ctx, "scripts/local up", !values["no-wait"]);
    try {
      const prepared = await render(inputs);
      saveInputs(dir, inputs);
      const { files } = prepared;
      say(`rendered ${tilde(files.composeFile)} (secrets in ${tilde(join(dir, "secrets"))}, mode 600)`);
      await startStores(ctx, prepared);
      reportSwap(await makeLive(ctx, prepared, "up", { runJobs: true }), "up");
      await startOwnServices(ctx, prepared);
      caFile = files.caFile;
      adminApiKeyFile = files.adminApiKeyFile;
      const live = liveRelease(readReleases(dir))!;
      expected = [
        ...Object.values(files.rendered.compose.services)
          .filter((s) => s.labels["chatapi.release"] === undefined)
          .map((s) => s.container_name),
        ...Object.values(live.compose.services).map((s) => s.container_name),
      ];
    } finally {
      lock.release();
    }
  }
  writeFileSync(engineFile, choice.engine);

  say("waiting until every container is healthy");
  await waitForStack(stack, {
    timeoutMs: Number(values.timeout) * 1000,
    ...(expected ? { expected } : {}),
    report: (line) => say(`  ${line}`),
  });
  await smokeAndReport(plan, caFile, adminApiKeyFile);

  const curlCa = caFile ? ` --cacert ${tilde(caFile)}` : "";
  console.log(`
The local stack "${stack}" is up (${((Date.now() - started) / 1000).toFixed(0)} s, ${choice.engine === "compose" ? (await findCompose()).compose.command : "pulumi"}).
  HTTPS       ${plan.urls.https}        e.g. curl${curlCa} ${plan.urls.health}${
    plan.loadBalancer.webConsole
      ? `\n  console     ${plan.urls.https}   (web console: dev login, rooms, live messages; API reference: ${plan.urls.https}console/api-reference/)`
      : ""
  }
  WebSocket   ${plan.urls.websocket}?token=<user access token>${caFile ? `\n  CA          ${tilde(caFile)} (self-signed: trust it, or pass it to your client)` : ""}
${
  plan.monitoring.enabled
    ? `  Prometheus  http://127.0.0.1:${plan.monitoring.prometheusPort}/   (loopback only: targets /targets, alerts /alerts)\n`
    : ""
}${
    plan.monitoring.alertmanager
      ? `  Alertmanager http://127.0.0.1:${plan.monitoring.alertmanager.port}/  (loopback only: alerts, silences; sends to ${alertDestinations(plan.monitoring.alertmanager)})\n`
      : ""
  }  admin key   cat ${tilde(adminApiKeyFile)}   (X-API-Key header of POST ${plan.loadBalancer.apiPrefix}/clients)${
    values["show-admin-key"] ? `\n              ${readFileSync(adminApiKeyFile, "utf8").trim()}` : ""
  }
  releases    bash scripts/local releases${stack === "local" ? "" : ` --stack ${stack}`}   (deploy --image REF, rollback)
  stop        npm run local:down${stack === "local" ? "" : ` -- --stack ${stack}`}   (data volumes kept; add --volumes to delete them)`);
}

/** Where Alertmanager sends alerts, for the summary (the webhook URL is a secret: not shown). */
function alertDestinations(a: NonNullable<DeploymentPlan["monitoring"]["alertmanager"]>): string {
  return [
    ...(a.email ? [`mail to ${a.email.to.join(", ")} via ${a.email.smarthost}`] : []),
    ...(a.webhook ? ["the webhook (chatapi:alertmanagerWebhookUrl)"] : []),
  ].join(" and ");
}

/** deploy and rollback on a compose stack: the same swap, then the smoke check. */
async function swapCommand(action: "deploy" | "rollback"): Promise<void> {
  if (engineOf() === "pulumi")
    throw new Error(
      action === "deploy"
        ? `stack ${stack} runs on Pulumi: pulumi config set --path chatapi:images.app ${values.image} && pulumi up --stack ${stack} (the program swaps releases the same way: docs/DEPLOYS.md)`
        : `stack ${stack} runs on Pulumi: set chatapi:images.app back to the previous image (pulumi stack history) and pulumi up`,
    );
  const stored = readInputs(ctx);
  const lock = await lockStack(
    ctx,
    action === "deploy" ? `scripts/local deploy --image ${values.image}` : "scripts/local rollback",
    !values["no-wait"],
  );
  try {
    const prepared =
      action === "deploy"
        ? await render({ ...stored, set: [...stored.set, ...values.set, `images.app=${values.image}`] })
        : await prepareRollback(ctx, (inputs) => render(withLiveImage(inputs)), values.to);
    reportSwap(await makeLive(ctx, prepared, action, { runJobs: action === "deploy" }), action);
    await smokeAndReport(prepared.plan, prepared.files.caFile, prepared.files.adminApiKeyFile);
  } finally {
    lock.release();
  }
}

function reportSwap(result: SwapResult, action: string): void {
  if (result.outcome === "live")
    say(`release ${result.release} is live (${action} took ${result.seconds.toFixed(1)} s)`);
}

/** A rollback renders the stack's own services with the live release's (pinned) image: it is there. */
function withLiveImage(inputs: StackInputs): StackInputs {
  const live = liveRelease(readReleases(dir));
  return live ? { ...inputs, set: [...inputs.set, `images.app=${live.image.pinned}`] } : inputs;
}

async function releases(): Promise<void> {
  const state = readReleases(dir);
  for (const line of describeReleases(ctx, state)) console.log(line);
  const running = (await stackContainers(stack)).filter((c) => c.release);
  const byRelease = new Map<string, string[]>();
  for (const c of running)
    byRelease.set(c.release!, [...(byRelease.get(c.release!) ?? []), `${c.name} (${c.status})`]);
  for (const [release, names] of byRelease) console.log(`containers of ${release}: ${names.join(", ")}`);
}

async function down(): Promise<void> {
  if (engineOf() === "pulumi") {
    const choice = await chooseEngine("pulumi");
    await pulumiDown({ ...choice.pulumi!, root, stack, dir, report: say });
  } else {
    const composeFile = join(dir, "docker-compose.yml");
    if (existsSync(composeFile)) {
      const cli = (await findCompose()).compose;
      say(`${cli.command} -p chatapi-${stack} down${values.volumes ? " --volumes" : ""}`);
      await run(
        cli.file,
        [
          ...cli.prefix,
          "-p",
          `chatapi-${stack}`,
          "-f",
          composeFile,
          "down",
          "--remove-orphans",
          ...(values.volumes ? ["--volumes"] : []),
        ],
        { onLine: (line) => line.trim() && say(`  ${line.trim()}`) },
      );
    }
  }
  // Whatever is left with the stack's label (a lost compose file, an interrupted run).
  const leftovers = (await docker("ps", "-aq", "--filter", `label=chatapi.stack=${stack}`))
    .split("\n")
    .filter(Boolean);
  if (leftovers.length > 0) await docker("rm", "-f", "-v", ...leftovers);
  const networks = (await docker("network", "ls", "-q", "--filter", `label=chatapi.stack=${stack}`))
    .split("\n")
    .filter(Boolean);
  if (networks.length > 0) await docker("network", "rm", ...networks);
  const volumes = (await docker("volume", "ls", "-q", "--filter", `label=chatapi.stack=${stack}`))
    .split("\n")
    .filter(Boolean);
  if (values.volumes) {
    if (volumes.length > 0) await docker("volume", "rm", ...volumes);
    // The releases' pinned images go with the stack's state: by tag, since `rmi` of an image ID
    // that other tags (another stack's pin, the image it was deployed as) share is refused.
    const pinned = (
      await docker(
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        `reference=chatapi-${stack}/app`,
      )
    )
      .split("\n")
      .filter(Boolean);
    if (pinned.length > 0) await run("docker", ["rmi", ...new Set(pinned)], { reject: false });
    // The generated passwords belong to the data just deleted: a new stack starts afresh.
    rmSync(dir, { recursive: true, force: true });
    say(`stack ${stack} removed with its data volumes and ${tilde(dir)}`);
  } else {
    say(
      `stack ${stack} removed; kept its data volumes (${volumes.length}) and secrets (${tilde(join(dir, "secrets"))})`,
    );
  }
}

async function status(): Promise<void> {
  const containers = await stackContainers(stack);
  if (containers.length === 0) return console.log(`stack ${stack}: no containers`);
  const problems = await healthProblems(containers);
  for (const c of containers)
    console.log(
      `${c.name.padEnd(44)} ${c.status}${c.health ? ` (${c.health})` : ""}${c.status === "exited" ? ` exit ${c.exitCode}` : ""}${c.release ? `  release ${c.release}` : ""}${problems.get(c.name) ? `  ${problems.get(c.name)}` : ""}`,
    );
  if (problems.size > 0) {
    console.log(
      `\nstack ${stack}: ${problems.size} container(s) not well (see above; scripts/local logs <name>)`,
    );
    process.exitCode = 1;
  }
}

async function backup(): Promise<void> {
  say(`backup of stack ${stack} (chatapi backup in its backup container)`);
  const result = await backupStack(stack, (line) => say(`  ${line}`));
  say(
    `backup done in ${(result.durationMs / 1000).toFixed(1)} s: ${result.file} (${result.bytes} bytes)${result.uploaded ? `, uploaded to ${result.uploaded}` : ""}`,
  );
}

async function restore(): Promise<void> {
  const source = positionals[1];
  if (!source) {
    console.error(
      "local restore: name the backup: a file, a backup in the stack's volume, or s3://bucket/key",
    );
    process.exit(2);
  }
  say(`restore of stack ${stack} from ${source}${values.force ? " (--force: replaces the database)" : ""}`);
  const result = await restoreStack(stack, {
    source,
    force: values.force,
    timeoutMs: Number(values.timeout) * 1000,
    report: (line) => say(`  ${line}`),
  });
  say(
    `restore done in ${(result.durationMs / 1000).toFixed(1)} s (${result.restarted.length} writers stopped and started again)`,
  );
}

const logs = () =>
  showLogs({
    stack,
    ...(positionals[1] ? { service: positionals[1] } : {}),
    follow: values.follow,
    json: values.json,
    tail: values.tail,
    ...(values.since ? { since: values.since } : {}),
  });

const commands: Record<string, () => Promise<void>> = {
  up,
  deploy: () => swapCommand("deploy"),
  rollback: () => swapCommand("rollback"),
  releases,
  down,
  status,
  logs,
  backup,
  restore,
};
commands[command]!().catch((error: unknown) => {
  if (error instanceof BackupCommandError) {
    console.error(`\nlocal ${command}: FAILED: ${error.message}`);
    process.exit(error.exitCode);
  }
  if (error instanceof ConfigError) {
    const hint = `\nFor npm run local, put a config secret's value in ${join(dir, "secrets", "config")}/<key> (mode 600).`;
    console.error(`${error.message}${/--secret/.test(error.message) ? hint : ""}`);
    process.exit(2);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (error instanceof DeployFailure)
    console.error(
      `\nlocal ${command}: FAILED after ${seconds} s; the live release still serves.\n${error.message}`,
    );
  else if (error instanceof LockHeldError) console.error(`\nlocal ${command}: refused: ${error.message}`);
  else console.error(`\nlocal ${command}: FAILED after ${seconds} s: ${(error as Error).message}`);
  process.exit(error instanceof LockHeldError ? 3 : 1);
});
