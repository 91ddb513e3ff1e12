// The release commands of a compose stack (scripts/local up | deploy | rollback | releases):
// render the stack for an app image (its release), swap releases (./release-deploy.ts), and
// remember what was live (./releases.ts). One deploy at a time per stack: a lock in the
// stack's folder makes a second one wait (or, with --no-wait, refuse), saying who holds it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ComposeFile } from "../../components/compose/compose-file";
import { type ComposeRelease, composeRelease, withReleases } from "../../components/compose/compose-releases";
import { releaseServersFile } from "../../components/containers/release";
import { type DockerEngine, dockerCli } from "../../components/docker/docker-cli";
import type { StackConfig } from "../../components/config/types";
import type { DeploymentPlan } from "../../components/plan/types";
import { type ComposeStackFiles, writeComposeFile, writeComposeStack } from "./compose-files";
import { findCompose } from "./compose-cli";
import { type FileLock, acquireFileLock } from "./file-lock";
import {
  type ComposeStack,
  awaitGate,
  runJobList,
  composeRun,
  ensureReleaseVolume,
  releaseContainers,
  swapRelease,
} from "./release-deploy";
import {
  type Action,
  type ReleaseRecord,
  type ReleaseState,
  addHistory,
  liveRelease,
  markLive,
  readReleases,
  rollbackTarget,
  writeReleases,
} from "./releases";

export interface LocalContext {
  stack: string;
  /** The stack's folder (compose file, secrets, releases.json). */
  dir: string;
  engine: DockerEngine;
  say: (line: string) => void;
}

/** What a stack is rendered from, kept by `up` so deploy and rollback use the same. */
export interface StackInputs {
  stackFile: string;
  set: string[];
}

const inputsFile = (dir: string) => join(dir, "stack.json");

export function saveInputs(dir: string, inputs: StackInputs): void {
  writeFileSync(inputsFile(dir), `${JSON.stringify(inputs, null, 2)}\n`, { mode: 0o600 });
}

export function readInputs(ctx: LocalContext): StackInputs {
  if (!existsSync(inputsFile(ctx.dir)))
    throw new Error(
      `stack ${ctx.stack} was never brought up here: run scripts/local up --stack ${ctx.stack} first`,
    );
  return JSON.parse(readFileSync(inputsFile(ctx.dir), "utf8")) as StackInputs;
}

/** How long a second deploy waits for the first (the longest a deploy takes, bounded). */
const LOCK_WAIT_MS = 20 * 60_000;

export function lockStack(ctx: LocalContext, purpose: string, wait: boolean): Promise<FileLock> {
  return acquireFileLock(join(ctx.dir, "deploy.lock"), {
    timeoutMs: wait ? LOCK_WAIT_MS : 0,
    purpose,
    onWait: (holder) =>
      ctx.say(
        `stack ${ctx.stack} is busy: ${holder}; waiting for it (up to ${LOCK_WAIT_MS / 60_000} min; --no-wait refuses instead)`,
      ),
  });
}

/** The app image's ID on the engine (it must be there: built, pulled or loaded). */
async function imageId(engine: DockerEngine, ref: string): Promise<string> {
  const result = await dockerCli(engine, ["image", "inspect", "--format", "{{.Id}}", ref], { check: false });
  if (result.exitCode !== 0)
    throw new Error(`image ${ref} is not on the Docker engine (build it, pull it or docker load it first)`);
  return result.stdout.trim();
}

export interface PreparedRelease {
  plan: DeploymentPlan;
  files: ComposeStackFiles;
  record: ReleaseRecord;
}

/**
 * Renders the stack for its app image: files and secrets written, the release id computed, the
 * image pinned by a tag of the stack's own (chatapi-<stack>/app:<ID prefix>), so the release
 * keeps its exact image even when the reference it came as moves.
 */
export async function prepareRelease(
  ctx: LocalContext,
  plan: DeploymentPlan,
  config: StackConfig,
  source: StackInputs,
): Promise<PreparedRelease> {
  const ref = plan.images.app.ref;
  const id = await imageId(ctx.engine, ref);
  const pinned = `chatapi-${ctx.stack}/app:${id.replace(/^sha256:/, "").slice(0, 12)}`;
  await dockerCli(ctx.engine, ["tag", id, pinned]);
  const files = await writeComposeStack(plan, config, ctx.dir, { appImage: id, appImageRef: pinned });
  await ensureReleaseVolume(ctx.engine, plan);
  const record: ReleaseRecord = {
    id: files.release,
    image: { ref, id, pinned },
    source,
    compose: composeRelease(files.rendered.compose, files.release),
    servers: releaseServersFile(plan, files.release),
    liveAt: "",
  };
  return { plan, files, record };
}

function composeStack(ctx: LocalContext, plan: DeploymentPlan, files: ComposeStackFiles): ComposeStack {
  return {
    stack: ctx.stack,
    projectName: files.projectName,
    composeFile: files.composeFile,
    engine: ctx.engine,
    plan,
    report: ctx.say,
  };
}

/** Is every container of the release there and where it should be (jobs done, services healthy)? */
async function releaseRuns(ctx: LocalContext, release: ComposeRelease): Promise<boolean> {
  const names = await releaseContainers(ctx.engine, ctx.stack, release.id);
  const wanted = Object.values(release.services).map((s) => s.container_name);
  if (wanted.some((name) => !names.includes(name))) return false;
  const { stdout } = await dockerCli(ctx.engine, [
    "inspect",
    "--format",
    "{{.HostConfig.RestartPolicy.Name}}|{{.State.Status}}|{{.State.ExitCode}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}",
    ...wanted,
  ]);
  return stdout
    .trim()
    .split("\n")
    .every((line) => {
      const [restart, status, exitCode, health] = line.split("|");
      return restart === "no"
        ? status === "exited" && exitCode === "0"
        : status === "running" && (health === "" || health === "healthy");
    });
}

export interface SwapResult {
  outcome: "live" | "unchanged";
  release: string;
  seconds: number;
}

/**
 * Makes `record` live on the compose stack by the release swap; writes the compose file (the
 * stack's services and the live release's), the history, and forgets the oldest release beyond
 * deploy.keepReleases (its pinned image tag is removed).
 */
export async function makeLive(
  ctx: LocalContext,
  prepared: PreparedRelease,
  action: Action,
  options: { runJobs: boolean; force?: boolean },
): Promise<SwapResult> {
  const { plan, files, record } = prepared;
  const started = Date.now();
  let state = readReleases(ctx.dir);
  const live = liveRelease(state);
  const file = (releases: ComposeRelease[]): ComposeFile => withReleases(files.rendered.compose, releases);
  const history = (outcome: "live" | "unchanged" | "failed", detail?: string) =>
    addHistory(state, {
      at: new Date().toISOString(),
      action,
      release: record.id,
      ...(live ? { from: live.id } : {}),
      outcome,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      ...(detail ? { detail } : {}),
    });

  if (live?.id === record.id && !options.force && (await releaseRuns(ctx, live.compose))) {
    writeComposeFile(files.composeFile, files.projectName, file([live.compose]));
    writeReleases(ctx.dir, history("unchanged"));
    ctx.say(`release ${record.id} is live already: nothing to change`);
    return { outcome: "unchanged", release: record.id, seconds: (Date.now() - started) / 1000 };
  }
  const previous = live && live.id !== record.id ? live : undefined;
  writeComposeFile(
    files.composeFile,
    files.projectName,
    file([...(previous ? [previous.compose] : []), record.compose]),
  );
  ctx.say(
    previous
      ? `${action}: release ${record.id} (${record.image.ref}) beside the live ${previous.id} (${previous.image.ref})`
      : `${action}: release ${record.id} (${record.image.ref})`,
  );
  try {
    await swapRelease(composeStack(ctx, plan, files), {
      target: record,
      ...(previous ? { live: previous } : {}),
      runJobs: options.runJobs,
    });
  } catch (error) {
    writeComposeFile(files.composeFile, files.projectName, file(previous ? [previous.compose] : []));
    writeReleases(ctx.dir, history("failed", (error as Error).message.split("\n")[0]));
    throw error;
  }
  writeComposeFile(files.composeFile, files.projectName, file([record.compose]));
  state = history("live");
  const marked = markLive(state, { ...record, liveAt: new Date().toISOString() }, plan.docker.releases.keep);
  writeReleases(ctx.dir, marked.state);
  for (const old of marked.forgotten) {
    if (marked.state.releases.some((r) => r.image.pinned === old.image.pinned)) continue;
    await dockerCli(ctx.engine, ["rmi", old.image.pinned], { check: false });
  }
  return { outcome: "live", release: record.id, seconds: (Date.now() - started) / 1000 };
}

/** The stack's services a release waits for (its data stores), started and healthy first. */
/** How long the data stores may take to become healthy (a first PostgreSQL start initialises its cluster). */
const STORES_READY_SECONDS = 180;

export async function startStores(ctx: LocalContext, prepared: PreparedRelease): Promise<void> {
  const { compose } = prepared.files.rendered;
  const stores = storesOfRelease(compose.services, prepared.record.compose.services);
  if (stores.length === 0) return;
  const stack = composeStack(ctx, prepared.plan, prepared.files);
  const cli = (await findCompose()).compose;
  const [jobs, services] = partition(stores, (key) => compose.services[key]!.restart === "no");
  ctx.say(`data stores: ${cli.command} -p ${stack.projectName} up -d ${services.join(" ")}`);
  await composeRun(stack, ["up", "-d", "--no-deps", ...services]);
  // `up -d` does not wait for health (Compose v2 with --no-deps, v1 at all): the release's
  // migration must not start before PostgreSQL answers.
  await awaitGate(
    stack,
    services.map((key) => compose.services[key]!.container_name),
    STORES_READY_SECONDS,
  );
  // Their own one-shot jobs (forming the fan-out's Redis Cluster) once they are up.
  await runJobList(
    stack,
    jobs.map((key) => [key, compose.services[key]!]),
  );
}

/**
 * The stack's services a release's services wait for, and everything those wait for in turn
 * (the in-stack Redis Cluster's job waits for its nodes), in the compose file's order.
 */
export function storesOfRelease(
  all: Record<string, { depends_on?: Record<string, unknown> }>,
  release: Record<string, { depends_on?: Record<string, unknown> }>,
): string[] {
  const needed = new Set<string>();
  const visit = (key: string) => {
    if (needed.has(key) || release[key] || !all[key]) return;
    needed.add(key);
    for (const dependency of Object.keys(all[key]!.depends_on ?? {})) visit(dependency);
  };
  for (const service of Object.values(release))
    for (const key of Object.keys(service.depends_on ?? {})) visit(key);
  return Object.keys(all).filter((key) => needed.has(key));
}

const partition = <T>(list: T[], test: (item: T) => boolean): [T[], T[]] => [
  list.filter(test),
  list.filter((item) => !test(item)),
];

/** The stack's own services after the release (nginx, ...): started or updated; leftovers removed. */
export async function startOwnServices(ctx: LocalContext, prepared: PreparedRelease): Promise<void> {
  // Not the stack's one-shot jobs: startStores ran them (`up` would start an exited job again).
  const own = Object.entries(prepared.files.rendered.compose.services)
    .filter(([, s]) => s.labels["chatapi.release"] === undefined && s.restart !== "no")
    .map(([key]) => key);
  await composeRun(composeStack(ctx, prepared.plan, prepared.files), [
    "up",
    "-d",
    "--no-deps",
    "--remove-orphans",
    ...own,
  ]);
}

/** Rollback: the kept release `to` (default: the one live before), by the same swap, no job run. */
export async function prepareRollback(
  ctx: LocalContext,
  render: (inputs: StackInputs) => Promise<PreparedRelease>,
  to?: string,
): Promise<PreparedRelease> {
  const state = readReleases(ctx.dir);
  const target = rollbackTarget(state, to);
  const pinned = await dockerCli(ctx.engine, ["image", "inspect", target.image.pinned], { check: false });
  if (pinned.exitCode !== 0)
    throw new Error(`the image of release ${target.id} (${target.image.pinned}) is no longer on the engine`);
  // The stack's own services and files as they are now; the release's services as they were.
  const now = await render(readInputs(ctx));
  return { ...now, record: target };
}

export function describeReleases(ctx: LocalContext, state: ReleaseState): string[] {
  const lines = [`stack ${ctx.stack}: ${state.releases.length} release(s) kept`];
  for (const r of state.releases) {
    const tag = r.id === state.live ? "live    " : "previous";
    lines.push(
      `  ${r.id}  ${tag}  ${r.image.ref}  (${r.image.id.slice(0, 19)}, pinned ${r.image.pinned})  live since ${r.liveAt}`,
    );
  }
  const target = state.releases.find((r) => r.id !== state.live);
  lines.push(
    target
      ? `rollback goes to ${target.id} (scripts/local rollback${ctx.stack === "local" ? "" : ` --stack ${ctx.stack}`}; --to ID for another)`
      : "nothing to roll back to yet",
  );
  if (state.history.length > 0) lines.push("recent:");
  for (const h of state.history.slice(0, 10))
    lines.push(
      `  ${h.at}  ${h.action.padEnd(8)} ${h.release}${h.from && h.from !== h.release ? ` (from ${h.from})` : ""}  ${h.outcome}  ${h.seconds} s${h.detail ? `  ${h.detail}` : ""}`,
    );
  return lines;
}

export { readReleases };
