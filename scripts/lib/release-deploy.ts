// A release swap on a compose stack, in the order of the release model
// (components/containers/release.ts): the new release's jobs, its services behind the health
// gate, the nginx switch, then the old release drained and removed. Until the switch nothing
// users reach has changed, so any failure before it removes the new containers and leaves the
// live release serving; the error names the container and shows its last log lines.
import { findCompose } from "./compose-cli";
import type { ComposeService } from "../../components/compose/compose-file";
import { RELEASE_LABEL } from "../../components/containers/release";
import { type DockerEngine, dockerCli } from "../../components/docker/docker-cli";
import { switchRelease, writeServersFile } from "../../components/docker/release-switch";
import type { DeploymentPlan } from "../../components/plan/types";
import { NGINX_CONFIG_DIR } from "../../components/plan/workloads/nginx";
import type { ReleaseRecord } from "./releases";
import { run } from "../../toolbox/exec";

export interface ComposeStack {
  stack: string;
  projectName: string;
  composeFile: string;
  engine: DockerEngine;
  /** The stack's current plan: nginx, the release volume, the gate's timeout. */
  plan: DeploymentPlan;
  report: (line: string) => void;
}

/** A deploy that stopped before the switch: nothing users see changed. */
export class DeployFailure extends Error {
  override name = "DeployFailure";
  constructor(
    message: string,
    readonly container?: string,
  ) {
    super(message);
  }
}

/** One-shot jobs (a migration) may take this long. */
const JOB_TIMEOUT_MS = 15 * 60_000;
/** A service that restarted this often is crash-looping: no point waiting for the gate. */
const CRASH_RESTARTS = 2;

/** Compose (v2 plugin, else v1: ./compose-cli.ts) on the stack's file. */
export async function composeRun(
  stack: Pick<ComposeStack, "projectName" | "composeFile" | "engine" | "report">,
  args: string[],
) {
  const cli = (await findCompose()).compose;
  return run(cli.file, [...cli.prefix, "-p", stack.projectName, "-f", stack.composeFile, ...args], {
    env: stack.engine.host ? { DOCKER_HOST: stack.engine.host } : {},
    onLine: (line) => line.trim() && stack.report(`  ${line.trim()}`),
  });
}

interface State {
  name: string;
  status: string;
  health: string;
  exitCode: number;
  restarts: number;
}

async function inspect(engine: DockerEngine, names: string[]): Promise<State[]> {
  if (names.length === 0) return [];
  const format =
    "{{.Name}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{.RestartCount}}";
  const { stdout } = await dockerCli(engine, ["inspect", "--format", format, ...names]);
  return stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [name, status, health, exitCode, restarts] = line.split("|");
      return {
        name: name!.replace(/^\//, ""),
        status: status ?? "",
        health: health ?? "",
        exitCode: Number(exitCode),
        restarts: Number(restarts),
      };
    });
}

/**
 * The exit code of a container's last run. The engine resets State.ExitCode to 0 each time the
 * restart policy starts the container again, so a crash loop inspected between two runs reads 0;
 * the engine's `die` events keep every exit code. Falls back to `inspected` without events.
 */
async function lastExitCode(engine: DockerEngine, name: string, inspected: number): Promise<number> {
  const created = await dockerCli(engine, ["inspect", "--format", "{{.Id}} {{.Created}}", name], {
    check: false,
  });
  const [id, since] = created.stdout.trim().split(" ");
  if (created.exitCode !== 0 || !id || !since) return inspected;
  const until = String(Math.ceil(Date.now() / 1000)); // without it, `docker events` follows forever
  const filters = ["--filter", `container=${id}`, "--filter", "event=die"];
  const format = ["--format", "{{.Actor.Attributes.exitCode}}"];
  const args = ["events", "--since", since, "--until", until, ...filters, ...format];
  const events = await dockerCli(engine, args, { check: false });
  const last = events.stdout.trim().split("\n").filter(Boolean).at(-1);
  return last !== undefined && /^\d+$/.test(last) ? Number(last) : inspected;
}

/** The last output of a container's health check (why it is not ready). */
async function lastHealthOutput(engine: DockerEngine, name: string): Promise<string> {
  const result = await dockerCli(engine, ["inspect", "--format", "{{json .State.Health}}", name], {
    check: false,
  });
  try {
    const health = JSON.parse(result.stdout) as { Log?: { Output: string }[] } | null;
    return (health?.Log?.at(-1)?.Output ?? "").trim().slice(0, 500);
  } catch {
    return "";
  }
}

export async function logTail(engine: DockerEngine, name: string, lines = 25): Promise<string> {
  const result = await dockerCli(engine, ["logs", "--tail", String(lines), name], { check: false });
  return `${result.stdout}${result.stderr}`
    .trimEnd()
    .split("\n")
    .map((line) => `    | ${line}`)
    .join("\n");
}

async function failure(engine: DockerEngine, name: string, what: string): Promise<DeployFailure> {
  return new DeployFailure(`${name} ${what}; its last log lines:\n${await logTail(engine, name)}`, name);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jobs = (record: ReleaseRecord) =>
  Object.entries(record.compose.services).filter(([, s]) => s.restart === "no");
const services = (record: ReleaseRecord) =>
  Object.entries(record.compose.services).filter(([, s]) => s.restart !== "no");

/** Runs a release's one-shot jobs in order; each must exit 0. */
async function runJobs(stack: ComposeStack, record: ReleaseRecord): Promise<void> {
  await runJobList(stack, jobs(record));
}

/** Runs one-shot jobs (compose key, service) in order; each must exit 0 within the job timeout. */
export async function runJobList(stack: ComposeStack, list: [string, ComposeService][]): Promise<void> {
  for (const [key, job] of list) {
    const started = Date.now();
    await composeRun(stack, ["up", "-d", "--no-deps", key]);
    for (;;) {
      const [state] = await inspect(stack.engine, [job.container_name]);
      if (state!.status === "exited" || state!.status === "dead") {
        if (state!.exitCode !== 0)
          throw await failure(stack.engine, job.container_name, `exited with ${state!.exitCode}`);
        stack.report(`${job.container_name}: completed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        break;
      }
      if (Date.now() - started > JOB_TIMEOUT_MS)
        throw await failure(
          stack.engine,
          job.container_name,
          `did not finish within ${JOB_TIMEOUT_MS / 60_000} min`,
        );
      await sleep(300);
    }
  }
}

/** The health gate: every container healthy within the timeout; a crash loop fails at once. */
export async function awaitGate(stack: ComposeStack, names: string[], timeoutSeconds: number): Promise<void> {
  const started = Date.now();
  const pending = new Set(names);
  while (pending.size > 0) {
    for (const state of await inspect(stack.engine, [...pending])) {
      if (state.status === "running" && state.health === "healthy") {
        pending.delete(state.name);
        stack.report(`${state.name}: ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } else if (state.restarts >= CRASH_RESTARTS || state.status === "dead") {
        const exitCode = await lastExitCode(stack.engine, state.name, state.exitCode);
        throw await failure(
          stack.engine,
          state.name,
          `keeps exiting (exit code ${exitCode}, ${state.restarts} restarts) instead of becoming ready`,
        );
      }
    }
    if (pending.size > 0 && Date.now() - started > timeoutSeconds * 1000) {
      const name = [...pending][0]!;
      const check = await lastHealthOutput(stack.engine, name);
      throw await failure(
        stack.engine,
        name,
        `did not pass its readiness check within ${timeoutSeconds} s${check ? ` (last check: ${check})` : ""}`,
      );
    }
    if (pending.size > 0) await sleep(500);
  }
}

/** Containers with a health check: the ones the gate waits for. */
const gated = (list: ComposeService[]) =>
  list.filter((s) => !("disable" in s.healthcheck)).map((s) => s.container_name);

/** Containers of a release on the engine (by label; whatever a compose file says). */
export async function releaseContainers(
  engine: DockerEngine,
  stack: string,
  release: string,
): Promise<string[]> {
  const { stdout } = await dockerCli(engine, [
    "ps",
    "-a",
    "--filter",
    `label=chatapi.stack=${stack}`,
    "--filter",
    `label=${RELEASE_LABEL}=${release}`,
    "--format",
    "{{.Names}}",
  ]);
  return stdout.split("\n").filter(Boolean).sort();
}

/** Removes a failed release's containers; a worker of it may hold a job: stopped gracefully first. */
async function removeRelease(stack: ComposeStack, release: string): Promise<void> {
  const names = await releaseContainers(stack.engine, stack.stack, release);
  if (names.length === 0) return;
  await Promise.all(
    names.map((name) => dockerCli(stack.engine, ["stop", name], { check: false, timeoutMs: 300_000 })),
  );
  await dockerCli(stack.engine, ["rm", "-f", "-v", ...names]);
}

function nginxOf(plan: DeploymentPlan) {
  const nginx = plan.workloads.find((w) => w.role === "nginx");
  const volume = plan.volumes.find((v) => v.writtenByDeploy);
  if (!nginx || !volume) throw new Error(`stack ${plan.stack} has no nginx that switches between releases`);
  return { container: nginx.name, config: `${NGINX_CONFIG_DIR}/nginx.conf`, volume, service: nginx.role };
}

/** The volume of nginx's servers file: compose declares it external, so it exists before any `up`. */
export async function ensureReleaseVolume(engine: DockerEngine, plan: DeploymentPlan): Promise<void> {
  const { volume } = nginxOf(plan);
  const exists = await dockerCli(engine, ["volume", "inspect", volume.resourceName], { check: false });
  if (exists.exitCode === 0) return;
  await dockerCli(engine, [
    "volume",
    "create",
    "--label",
    `chatapi.stack=${plan.stack}`,
    "--label",
    `chatapi.purpose=${volume.purpose}`,
    volume.resourceName,
  ]);
}

function switchArgs(stack: ComposeStack, record: ReleaseRecord) {
  const nginx = nginxOf(stack.plan);
  return {
    volume: nginx.volume.resourceName,
    helperImage: stack.plan.images.nginx.ref,
    file: record.servers,
    nginx: { container: nginx.container, config: nginx.config },
  };
}

/**
 * Points nginx at `record`: writes its servers file and reloads nginx; before the first
 * release nginx does not run yet, and is started here (it reads the file as it starts).
 */
async function switchTo(stack: ComposeStack, record: ReleaseRecord): Promise<void> {
  const nginx = nginxOf(stack.plan);
  const { reloaded, ms } = await switchRelease(stack.engine, switchArgs(stack, record));
  if (reloaded) {
    stack.report(
      `nginx: switched to release ${record.id} (nginx -t, nginx -s reload, new workers: ${ms} ms)`,
    );
    return;
  }
  stack.report(`nginx: starting it with release ${record.id}'s instances`);
  await composeRun(stack, ["up", "-d", "--no-deps", nginx.service]);
  await awaitGate(stack, [nginx.container], 120);
}

/** Stops the old release's containers gracefully (each with its stop grace period), then removes them. */
async function drain(stack: ComposeStack, release: string): Promise<void> {
  const names = await releaseContainers(stack.engine, stack.stack, release);
  const running = (await inspect(stack.engine, names)).filter((s) => s.status === "running");
  const started = Date.now();
  // SIGTERM to all at once: each finishes its requests and closes its WebSockets with 1001.
  await Promise.all(running.map((s) => dockerCli(stack.engine, ["stop", s.name], { timeoutMs: 300_000 })));
  const stopped = await inspect(
    stack.engine,
    running.map((s) => s.name),
  );
  for (const s of stopped)
    stack.report(`${s.name}: stopped (exit ${s.exitCode}${s.exitCode === 0 ? ", drained" : ""})`);
  stack.report(`release ${release} drained in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (names.length > 0) await dockerCli(stack.engine, ["rm", "-v", ...names]);
}

export interface SwapOptions {
  target: ReleaseRecord;
  live?: ReleaseRecord;
  /** A rollback runs no job: the schema stays where the newer release put it. */
  runJobs: boolean;
}

/**
 * Makes `target` the live release. The compose file must list the stack's services, the live
 * release's and the target's. On failure before the switch, the target's containers are removed
 * (and nginx's servers file put back) and a DeployFailure is thrown.
 */
export async function swapRelease(stack: ComposeStack, options: SwapOptions): Promise<void> {
  const { target, live } = options;
  const timeout = stack.plan.docker.releases.readyTimeoutSeconds;
  try {
    if (options.runJobs) await runJobs(stack, target);
    const list = services(target);
    stack.report(`starting release ${target.id}: ${list.map(([, s]) => s.container_name).join(", ")}`);
    await composeRun(stack, ["up", "-d", "--no-deps", ...list.map(([key]) => key)]);
    stack.report(`health gate: each must pass /health/ready within ${timeout} s`);
    await awaitGate(stack, gated(list.map(([, s]) => s)), timeout);
    await switchTo(stack, target).catch(async (error: unknown) => {
      // nginx keeps serving what it had: its file says so again, for its next start.
      if (live) await writeServersFile(stack.engine, switchArgs(stack, live)).catch(() => undefined);
      throw new DeployFailure(
        `the nginx switch failed (nginx still serves release ${live?.id ?? "none"}): ${(error as Error).message}`,
      );
    });
  } catch (error) {
    stack.report(`release ${target.id} failed: removing its containers (traffic never moved)`);
    await removeRelease(stack, target.id);
    throw error;
  }
  if (live && live.id !== target.id) await drain(stack, live.id);
}
