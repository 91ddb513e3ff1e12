// A graceful reload of the nginx container, never a restart: `nginx -t` first (a bad config or
// an upstream name that does not resolve is refused while the running nginx keeps serving),
// then `nginx -s reload` (SIGHUP to the master: new workers take new connections, old workers
// finish theirs within worker_shutdown_timeout), then proof that it took effect: every running
// worker process is a new one. Used by the release switch (./release-switch.ts) and by anything
// else that changes what nginx reads (e.g. a renewed certificate).
import { type DockerEngine, dockerCli } from "./docker-cli";

export interface NginxReloadTarget {
  /** The nginx container. */
  container: string;
  /** Its configuration file (nginx -c), which also names the pid file the reload signals. */
  config: string;
}

/**
 * A plain Error named NginxReloadError, not a subclass: this code also runs inside the release
 * switch's dynamic provider, which Pulumi serializes, and a serialized Error subclass loses its
 * message (`pulumi up` would print an empty error).
 */
export function nginxReloadError(message: string): Error {
  const error = new Error(message);
  error.name = "NginxReloadError";
  return error;
}

/** Worker processes of the nginx in the container: [running, shutting down] (pids). */
export async function nginxWorkers(engine: DockerEngine, container: string): Promise<[number[], number[]]> {
  // No ps in the images: the process titles nginx sets, read from /proc.
  const script =
    'for d in /proc/[0-9]*; do t=$(tr "\\0" " " < "$d/cmdline" 2>/dev/null); case "$t" in "nginx: worker process"*) echo "${d#/proc/} $t";; esac; done';
  const { stdout } = await dockerCli(engine, ["exec", container, "sh", "-c", script]);
  const running: number[] = [];
  const closing: number[] = [];
  for (const line of stdout.split("\n").filter(Boolean)) {
    const pid = Number(line.slice(0, line.indexOf(" ")));
    (line.includes("shutting down") ? closing : running).push(pid);
  }
  return [running, closing];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Tests the configuration, reloads, and waits (bounded) until nginx runs only new workers.
 * Throws an NginxReloadError with nginx's own words when the test or the reload fails; the running
 * nginx then still serves with what it had.
 */
export async function reloadNginx(
  engine: DockerEngine,
  target: NginxReloadTarget,
  options: { timeoutMs?: number } = {},
): Promise<{ workers: number[]; ms: number }> {
  const started = Date.now();
  const test = await dockerCli(engine, ["exec", target.container, "nginx", "-t", "-q", "-c", target.config], {
    check: false,
  });
  if (test.exitCode !== 0)
    throw nginxReloadError(
      `nginx in ${target.container} refused the new configuration (it keeps serving the old one):\n${(test.stderr + test.stdout).trim()}`,
    );
  const [before] = await nginxWorkers(engine, target.container);
  await dockerCli(engine, ["exec", target.container, "nginx", "-s", "reload", "-c", target.config]);
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const [running] = await nginxWorkers(engine, target.container);
    if (running.length > 0 && running.every((pid) => !before.includes(pid)))
      return { workers: running, ms: Date.now() - started };
    if (Date.now() > deadline) {
      const log = await dockerCli(engine, ["logs", "--tail", "20", target.container], { check: false });
      throw nginxReloadError(
        `nginx in ${target.container} did not start new workers within ${(options.timeoutMs ?? 15_000) / 1000} s of the reload; its last log lines:\n${(log.stderr + log.stdout).trim()}`,
      );
    }
    await sleep(100);
  }
}
