// Waits until every container of a stack is where it should be: one-shot jobs exited 0,
// services with a health check healthy, the others running. Reports each change as it happens
// and, on failure or timeout, shows the last log lines of the containers at fault.
import { docker, run } from "../../toolbox/exec";

export interface ContainerState {
  name: string;
  role: string;
  status: string;
  health?: string;
  exitCode: number;
  restarts: number;
  startedAt: string;
  /** The release it belongs to (the app's containers). */
  release?: string;
  /** A one-shot job (the plan gives only jobs the restart policy "no"): done once it exited 0. */
  job: boolean;
}

/** The stack's containers (label chatapi.stack), without the never-started files containers. */
export async function stackContainers(stack: string): Promise<ContainerState[]> {
  const ids = (await docker("ps", "-aq", "--filter", `label=chatapi.stack=${stack}`))
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return [];
  const format =
    '{{.Name}}|{{index .Config.Labels "chatapi.role"}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{.RestartCount}}|{{.State.StartedAt}}|{{index .Config.Labels "chatapi.release"}}|{{.HostConfig.RestartPolicy.Name}}';
  const lines = (await docker("inspect", "--format", format, ...ids)).split("\n");
  return lines
    .map((line) => {
      const [name, role, status, health, exitCode, restarts, startedAt, release, restartPolicy] =
        line.split("|");
      return {
        name: name!.replace(/^\//, ""),
        role: role ?? "",
        status: status ?? "",
        ...(health ? { health } : {}),
        exitCode: Number(exitCode),
        restarts: Number(restarts),
        startedAt: startedAt ?? "",
        ...(release ? { release } : {}),
        job: restartPolicy === "no",
      };
    })
    .filter((c) => c.role !== "files" && c.role !== "release-switch")
    .sort((a, b) => a.name.localeCompare(b.name));
}

type Verdict = { done: true; text: string } | { done: false; text: string; failed?: string };

function verdict(c: ContainerState): Verdict {
  if (c.job) {
    if (c.status === "exited")
      return c.exitCode === 0
        ? { done: true, text: "completed" }
        : { done: false, text: `exited ${c.exitCode}`, failed: `exited with ${c.exitCode}` };
    return { done: false, text: c.status };
  }
  if (c.status === "running") {
    if (c.health === undefined) return { done: true, text: "running" };
    if (c.health === "healthy") return { done: true, text: "healthy" };
    if (c.health === "unhealthy") return { done: false, text: "unhealthy", failed: "its health check fails" };
    return { done: false, text: "starting" };
  }
  if (c.status === "restarting" || (c.status === "exited" && c.restarts > 0))
    return {
      done: false,
      text: `restarting (exit ${c.exitCode})`,
      ...(c.restarts >= 3 ? { failed: `keeps exiting (code ${c.exitCode}, ${c.restarts} restarts)` } : {}),
    };
  return { done: false, text: c.status };
}

/**
 * What is wrong with each container that is not well (unhealthy, failed, restarting), with the
 * health check's own last output when it has one (the backup container says why it is unhealthy).
 */
export async function healthProblems(containers: ContainerState[]): Promise<Map<string, string>> {
  const problems = new Map<string, string>();
  for (const c of containers) {
    const v = verdict(c);
    if (v.done || (!v.failed && c.health !== "unhealthy" && c.status === "running")) continue;
    if (c.status === "created") continue; // a service compose has not started yet: up reports it
    let detail = v.failed ?? v.text;
    if (c.health === "unhealthy") {
      const log = await run("docker", ["inspect", "--format", "{{json .State.Health.Log}}", c.name], {
        reject: false,
      });
      const entries = JSON.parse(log.stdout || "[]") as { Output?: string }[] | null;
      const last = entries?.at(-1)?.Output?.trim().split("\n").at(-1);
      if (last) detail = `${detail}: ${last}`;
    }
    problems.set(c.name, detail);
  }
  return problems;
}

export async function logTail(container: string, lines = 30): Promise<string> {
  const result = await run("docker", ["logs", "--tail", String(lines), container], { reject: false });
  return result.all.trimEnd();
}

export interface WaitOptions {
  timeoutMs: number;
  report: (line: string) => void;
  /** Containers expected (names); missing ones are waited for. */
  expected?: string[];
}

export class StackNotHealthyError extends Error {
  override name = "StackNotHealthyError";
}

export async function waitForStack(stack: string, options: WaitOptions): Promise<ContainerState[]> {
  const started = Date.now();
  const seen = new Map<string, string>();
  const unavailable = new Set<string>();
  for (;;) {
    const containers = await stackContainers(stack);
    const byName = new Map(containers.map((c) => [c.name, c]));
    const missing = (options.expected ?? []).filter((name) => !byName.has(name));
    const verdicts = containers.map((c) => ({
      c,
      v: unavailable.has(c.name)
        ? ({ done: true, text: "not available in this app build (skipped)" } as Verdict)
        : verdict(c),
    }));
    for (const { c, v } of verdicts) {
      if (seen.get(c.name) !== v.text) {
        seen.set(c.name, v.text);
        options.report(`${c.name}: ${v.text} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      }
    }
    let failed = verdicts.filter(({ v }) => !v.done && v.failed);
    // An app build without this command (it says so and exits 2): reported, not waited for.
    for (const item of failed) {
      if (
        item.c.exitCode === 2 &&
        /is not available in this build of chatapi/.test(await logTail(item.c.name, 40))
      ) {
        item.v = { done: true, text: "not available in this app build (skipped)" };
        unavailable.add(item.c.name);
        seen.set(item.c.name, item.v.text);
        options.report(`${item.c.name}: ${item.v.text}`);
      }
    }
    failed = failed.filter(({ v }) => !v.done);
    if (failed.length > 0) {
      const details = await Promise.all(
        failed.map(
          async ({ c, v }) =>
            `${c.name} ${v.done ? "" : v.failed}; last log lines:\n${indent(await logTail(c.name))}`,
        ),
      );
      throw new StackNotHealthyError(`the stack is not healthy:\n${details.join("\n")}`);
    }
    if (containers.length > 0 && missing.length === 0 && verdicts.every(({ v }) => v.done)) return containers;
    if (Date.now() - started > options.timeoutMs) {
      const pending = verdicts.filter(({ v }) => !v.done);
      const details = await Promise.all(
        pending.map(
          async ({ c, v }) => `${c.name}: ${v.text}; last log lines:\n${indent(await logTail(c.name))}`,
        ),
      );
      throw new StackNotHealthyError(
        `the stack was not healthy within ${options.timeoutMs / 1000} s:\n${[...details, ...missing.map((m) => `${m}: not created`)].join("\n")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((line) => `    | ${line}`)
    .join("\n");
