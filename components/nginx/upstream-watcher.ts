// Keeping a DNS upstream current on nginx that cannot re-resolve it (open-source nginx before
// 1.27.3, e.g. Debian's 1.22 in the offline image): such an nginx resolves upstream host names
// only when it (re)loads its configuration. The variable form (`proxy_pass http://$name`) does
// re-resolve per request, but picks a random address (the resolver rotates its answers and the
// implicit upstream is round-robin), which would lose WebSocket stickiness. So the upstream
// blocks stay as they are (`hash $remote_addr` over the resolved pods), and a small loop beside
// nginx looks the name up every few seconds and reloads nginx (SIGHUP to the master: graceful,
// open connections stay on the old workers) whenever the set of addresses changed. Pure.
import type { LoadBalancerPlan } from "../plan/types";

/** Can this nginx re-resolve upstream server names itself (`server ... resolve`, 1.27.3+)? */
export function nginxResolvesUpstreams(lb: LoadBalancerPlan): boolean {
  const [major = 1, minor = 0] = lb.nginxVersion.split(".").map(Number);
  // The plan knows major.minor only: 1.28 is the first minor where every release has it.
  return major > 1 || (major === 1 && minor >= 28);
}

/** Does this load balancer need the watcher (a DNS upstream on an nginx that cannot re-resolve)? */
export function needsUpstreamWatcher(lb: LoadBalancerPlan): boolean {
  return lb.upstream.kind === "dns" && !nginxResolvesUpstreams(lb);
}

export interface UpstreamWatcherOptions {
  /** Seconds between lookups. */
  intervalSeconds: number;
}

/** The file the watcher touches every round: its liveness and readiness probes check its age. */
export function upstreamWatcherHeartbeat(lb: LoadBalancerPlan): string {
  return `${lb.paths.pidFile.slice(0, lb.paths.pidFile.lastIndexOf("/"))}/upstream-watcher.alive`;
}

/** Probe command: the watcher is alive when its heartbeat is younger than three rounds (plus slack). */
export function upstreamWatcherProbe(lb: LoadBalancerPlan, options: UpstreamWatcherOptions): string[] {
  const maxAge = options.intervalSeconds * 3 + 10;
  return [
    "bash",
    "-c",
    `[ $(( $(date +%s) - $(stat -c %Y ${upstreamWatcherHeartbeat(lb)}) )) -lt ${maxAge} ]`,
  ];
}

/**
 * The watcher as a bash script (runs in the nginx image: bash, getent, awk, sort, tr). It
 * signals the nginx master named by the pid file, so it must share the pod's process
 * namespace and /tmp with nginx and run as the same user.
 */
export function renderUpstreamWatcher(lb: LoadBalancerPlan, options: UpstreamWatcherOptions): string {
  if (lb.upstream.kind !== "dns") throw new Error("only a DNS upstream needs re-resolving");
  const interval = options.intervalSeconds;
  if (!Number.isInteger(interval) || interval < 1)
    throw new Error(`the watch interval must be a whole number of seconds, not ${interval}`);
  return [
    "#!/bin/bash",
    "# Rendered by the chatapi toolkit from the deployment plan (components/nginx/upstream-watcher.ts).",
    "# Reloads nginx when the addresses of its DNS upstream change: this nginx resolves upstream",
    "# names only when it loads its configuration.",
    "set -u",
    `name=${lb.upstream.name}`,
    `pidfile=${lb.paths.pidFile}`,
    `interval=${interval}`,
    `heartbeat=${upstreamWatcherHeartbeat(lb)}`,
    "last=",
    "while :; do",
    '  : >"$heartbeat" # the probes check its age',
    "  # Sorted, de-duplicated IPv4 addresses; empty while the name has none (nginx keeps its set).",
    `  current=$(getent ahostsv4 "$name" | awk '{print $1}' | sort -u | tr '\\n' ' ')`,
    '  if [ -n "$current" ] && [ "$current" != "$last" ]; then',
    "    # The first round reloads too: the set may have changed between nginx's start and ours.",
    '    if [ -s "$pidfile" ] && kill -HUP "$(cat "$pidfile")" 2>/dev/null; then',
    '      echo "upstream-watcher: $name is ${current% }: reloaded nginx"',
    "      last=$current",
    "    fi",
    "  fi",
    '  sleep "$interval"',
    "done",
    "",
  ].join("\n");
}
