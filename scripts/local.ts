// The local Docker stack in one command (npm run local / npm run local:down). See README,
// "Local stack".
// "Local stack". Usage: below (scripts/local --help).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { dockerInstances } from "../components/plan/names";
import type { DeploymentPlan } from "../components/plan/types";
import { ConfigError } from "../components/config/issues";
import { readStackFile } from "../components/config/stack-file";
import { ensureAppImage } from "./lib/app-image";
import { parseCommandLine, usageError } from "./lib/cli-args";
import { writeComposeStack } from "./lib/compose-files";
import { findCompose } from "./lib/compose-cli";
import { chooseImageSource } from "./lib/image-source";
import { type EngineName, chooseEngine } from "./lib/local-engine";
import { showLogs } from "./lib/local-logs";
import { pulumiDown, pulumiUp } from "./lib/pulumi-local";
import { docker, run } from "./lib/run";
import { runSmoke } from "./lib/smoke";
import { stackContainers, waitForStack } from "./lib/stack-health";
import { stackDir } from "./lib/stack-dir";
import { loadStackPlan, readConfigSecrets } from "./lib/stack-plan";

const root = resolve(__dirname, "..");
const usage = `usage: scripts/local up   [--stack local] [--stack-file NAME] [--set key.path=value]... [--offline]
                          [--engine auto|compose|pulumi] [--no-smoke] [--show-admin-key] [--timeout 600]
                          [--skip-setup]
       scripts/local down [--stack local] [--volumes]
       scripts/local status [--stack local]
       scripts/local logs [service] [-f] [--json] [--tail 100|all] [--since 10m] [--stack local]`;
const { values, positionals } = parseCommandLine("local", usage, {
  allowPositionals: true,
  options: {
    stack: { type: "string", default: "local" },
    "stack-file": { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    engine: { type: "string", default: "auto" },
    volumes: { type: "boolean", default: false },
    "no-smoke": { type: "boolean", default: false },
    "show-admin-key": { type: "boolean", default: false },
    "skip-setup": { type: "boolean", default: false },
    offline: { type: "boolean", default: false },
    timeout: { type: "string", default: "600" },
    follow: { type: "boolean", short: "f", default: false },
    json: { type: "boolean", default: false },
    tail: { type: "string", default: "100" },
    since: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
const command = positionals[0] ?? "up";
const stack = values.stack;
const dir = stackDir(stack);
const started = Date.now();
const say = (line: string) =>
  console.log(`[local ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}`);
const tilde = (path: string) => path.replace(new RegExp(`^${homedir()}/`), "~/");

if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!["up", "down", "status", "logs"].includes(command))
  usageError("local", `unknown command "${command}" (one of: up, down, status, logs)`, usage);
if (!["auto", "compose", "pulumi"].includes(values.engine))
  usageError("local", `--engine must be auto, compose or pulumi, not "${values.engine}"`, usage);
if (!/^[1-9][0-9]*$/.test(values.timeout))
  usageError("local", `--timeout must be a number of seconds, not "${values.timeout}"`, usage);

const composeArgs = (projectName: string, file: string) => ["-p", projectName, "-f", file];
const engineFile = join(dir, "engine");

/** Every image the plan runs is on the engine: the app image built, offline images made. */
async function ensureImages(plan: DeploymentPlan): Promise<void> {
  const missing: string[] = [];
  for (const [key, image] of Object.entries(plan.images)) {
    if (image.build) {
      const result = await ensureAppImage(
        {
          ref: image.ref,
          context: resolve(root, image.build.context),
          dockerfile: resolve(root, image.build.dockerfile),
          args: image.build.args,
        },
        { onProgress: (line) => say(`  ${line}`) },
      );
      say(
        `image ${key}: ${image.ref} ${result.built ? `built in ${result.seconds.toFixed(0)} s` : "cached"}`,
      );
      continue;
    }
    const present = (await run("docker", ["image", "inspect", image.ref], { check: false })).exitCode === 0;
    if (present) continue;
    if (image.pull) {
      say(`image ${key}: docker pull ${image.ref}`);
      await run("docker", ["pull", image.ref]);
    } else missing.push(image.ref);
  }
  if (missing.length > 0) {
    say(`images missing (${missing.join(", ")}): scripts/images`);
    await run(join(root, "scripts", "images"), [], { onLine: (line) => say(`  ${line}`) });
  }
}

/** nginx reads its static upstream's addresses at start: restart it when an API container is newer. */
async function restartStaleNginx(): Promise<void> {
  const containers = await stackContainers(stack);
  const nginx = containers.find((c) => c.role === "nginx" && c.status === "running");
  const api = containers.filter((c) => c.role === "api");
  if (nginx && api.some((c) => c.startedAt > nginx.startedAt)) {
    say(`${nginx.name}: restarting (API containers were re-created after it started)`);
    await docker("restart", nginx.name);
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

const stackFileName = values["stack-file"] ?? stack;
const loadPlan = (set: string[]) =>
  loadStackPlan({
    root,
    stack,
    stackFile: stackFileName,
    set,
    secrets: readConfigSecrets(join(dir, "secrets", "config")),
  });

/** Does the stack file or a --set choose images.preset (then no probe decides it)? */
function presetChosen(): boolean {
  if (values.set.some((s) => /^(chatapi:)?images\.preset=/.test(s))) return true;
  const images = readStackFile(root, stackFileName).config["chatapi:images"];
  return images !== undefined && /"preset"/.test(images);
}

/** The plan with its images' source: upstream by default, the offline preset when asked or needed. */
async function planWithImages(engine: EngineName): Promise<ReturnType<typeof loadPlan>> {
  const set = [...values.set, ...(values.offline ? ["images.preset=offline"] : [])];
  const loaded = loadPlan(set);
  const preset = loaded.config.settings.images.preset;
  if (values.offline || presetChosen()) {
    say(
      `images: ${preset} (${values.offline ? "--offline" : `images.preset in Pulumi.${stackFileName}.yaml or --set`})`,
    );
    return loaded;
  }
  const choice = await chooseImageSource(loaded.plan);
  say(`images: ${choice.offline ? "offline" : "upstream"} (${choice.reason})`);
  if (!choice.offline) return loaded;
  if (engine === "pulumi")
    throw new Error(
      `the pulumi engine deploys Pulumi.${stack}.yaml as it is: set the offline images there (pulumi config set --path chatapi:images.preset offline --stack ${stack}), or use --engine compose`,
    );
  return loadPlan([...set, "images.preset=offline"]);
}

async function up(): Promise<void> {
  setUpMachine();
  const choice = await chooseEngine(values.engine as EngineName | "auto");
  say(`engine: ${choice.engine === "compose" ? "compose" : "pulumi"} (${choice.reason})`);
  const compose = choice.engine === "compose" ? await findCompose() : undefined;
  if (compose) say(`compose: ${compose.compose.command} (${compose.reason})`);
  const { plan, config } = await planWithImages(choice.engine);
  if (plan.target !== "docker")
    throw new Error(`stack ${stack} targets ${plan.target}: npm run local runs Docker stacks`);
  if (plan.docker.host !== "unix:///var/run/docker.sock")
    throw new Error(`stack ${stack} targets the Docker engine at ${plan.docker.host}, not this machine's`);
  const expected = plan.workloads.flatMap((w) => dockerInstances(w).map((i) => i.name));
  say(`plan: stack ${stack} (Pulumi.${values["stack-file"] ?? stack}.yaml): ${expected.length} containers`);

  await ensureImages(plan);
  let caFile: string | undefined;
  let adminApiKeyFile: string;
  if (choice.engine === "pulumi" && choice.pulumi) {
    ({ caFile, adminApiKeyFile } = await pulumiUp({ ...choice.pulumi, root, stack, dir, report: say }));
  } else {
    const files = await writeComposeStack(plan, config, dir);
    say(`rendered ${tilde(files.composeFile)} (secrets in ${tilde(join(dir, "secrets"))}, mode 600)`);
    const cli = compose!.compose;
    say(`${cli.command} -p ${files.projectName} up -d`);
    await run(
      cli.file,
      [...cli.prefix, ...composeArgs(files.projectName, files.composeFile), "up", "-d", "--remove-orphans"],
      {
        onLine: (line) => line.trim() && say(`  ${line.trim()}`),
      },
    );
    await restartStaleNginx();
    caFile = files.caFile;
    adminApiKeyFile = files.adminApiKeyFile;
  }
  writeFileSync(engineFile, choice.engine);

  say("waiting until every container is healthy");
  await waitForStack(stack, {
    timeoutMs: Number(values.timeout) * 1000,
    expected,
    report: (line) => say(`  ${line}`),
  });

  if (!values["no-smoke"]) {
    say(`smoke check through ${plan.urls.https}`);
    const result = await runSmoke(
      {
        baseUrl: plan.urls.https,
        apiPrefix: config.settings.app.apiPrefix,
        adminApiKey: readFileSync(adminApiKeyFile, "utf8").trim(),
        ...(caFile ? { ca: readFileSync(caFile, "utf8") } : {}),
      },
      (line) => say(`  ${line}`),
    );
    say(`smoke check passed (${result.checks} checks)`);
  }

  const curlCa = caFile ? ` --cacert ${tilde(caFile)}` : "";
  console.log(`
The local stack "${stack}" is up (${((Date.now() - started) / 1000).toFixed(0)} s, ${compose ? compose.compose.command : "pulumi"}).
  HTTPS       ${plan.urls.https}        e.g. curl${curlCa} ${plan.urls.health}${
    plan.loadBalancer.webConsole
      ? `\n  console     ${plan.urls.https}   (web console: dev login, rooms, live messages; API reference: ${plan.urls.https}console/api-reference/)`
      : ""
  }
  WebSocket   ${plan.urls.websocket}?token=<user access token>${caFile ? `\n  CA          ${tilde(caFile)} (self-signed: trust it, or pass it to your client)` : ""}
  admin key   cat ${tilde(adminApiKeyFile)}   (X-API-Key header of POST ${config.settings.app.apiPrefix}/clients)${
    values["show-admin-key"] ? `\n              ${readFileSync(adminApiKeyFile, "utf8").trim()}` : ""
  }
  stop        npm run local:down${stack === "local" ? "" : ` -- --stack ${stack}`}   (data volumes kept; add --volumes to delete them)`);
}

async function down(): Promise<void> {
  const engine = (existsSync(engineFile) ? readFileSync(engineFile, "utf8").trim() : "compose") as EngineName;
  if (engine === "pulumi") {
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
          ...composeArgs(`chatapi-${stack}`, composeFile),
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
  for (const c of containers)
    console.log(
      `${c.name.padEnd(40)} ${c.status}${c.health ? ` (${c.health})` : ""}${c.status === "exited" ? ` exit ${c.exitCode}` : ""}`,
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

const commands: Record<string, () => Promise<void>> = { up, down, status, logs };
commands[command]!().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    const hint = `\nFor npm run local, put a config secret's value in ${join(dir, "secrets", "config")}/<key> (mode 600).`;
    console.error(`${error.message}${/--secret/.test(error.message) ? hint : ""}`);
    process.exit(2);
  }
  console.error(
    `\nlocal ${command}: FAILED after ${((Date.now() - started) / 1000).toFixed(0)} s: ${(error as Error).message}`,
  );
  process.exit(1);
});
