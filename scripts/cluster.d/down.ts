// `scripts/cluster down [--purge]`: stop exactly what up started and remove what it left on the
// host (pods' network namespaces, the bridge, iptables rules and chains, conntrack entries,
// mounts, cgroups), in the order of DOWN_STEPS; --purge also deletes the cluster's state.
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { COMPONENTS, DOWN_STEPS, type DownStep, downPlan } from "./components";
import type { ClusterConfig } from "./config";
import { run, succeeds } from "../../toolbox/exec";
import { forwardChainExists, sweepIptables } from "./host-network";
import { crictl } from "./images";
import { lockFile, takeLock } from "./lock";
import { needRoot, say, seconds, step, stepEnd } from "./log";
import { anyRunning, logFile, processes, running, stopComponent, stopPid } from "./processes";

/** Shims started by our containerd: their command line names our socket. */
export function ourShims(
  procs: { pid: number; exe: string | undefined; cmdline: string[] }[],
  socket: string,
): number[] {
  return procs
    .filter(
      (p) =>
        p.exe?.endsWith("/containerd-shim-runc-v2") &&
        `${p.cmdline.join(" ")} `.includes(`-address ${socket} `),
    )
    .map((p) => p.pid);
}

/** Mount points under the state folder, deepest first (from /proc/self/mounts). */
export function mountsUnder(procMounts: string, state: string): string[] {
  return procMounts
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .map((path) =>
      path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter((path) => path.startsWith(`${state}/`))
    .sort((a, b) => b.length - a.length);
}

const stateMounts = (config: ClusterConfig) =>
  mountsUnder(readFileSync("/proc/self/mounts", "utf8"), config.state);

async function unmount(path: string): Promise<boolean> {
  return (await succeeds("umount", [path])) || (await succeeds("umount", ["-l", path]));
}

const bridgeExists = (config: ClusterConfig) => succeeds("ip", ["link", "show", config.network.bridge]);

/** Removes empty cgroup folders depth first (what the kubelet made for pods). */
function removeEmptyDirs(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    try {
      if (statSync(path).isDirectory()) removeEmptyDirs(path);
    } catch {
      // gone meanwhile
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // still in use, or not ours to remove
  }
}

function kubepodsCgroups(): string[] {
  const root = "/sys/fs/cgroup";
  const controllers = existsSync(root) ? readdirSync(root).map((c) => join(root, c, "kubepods")) : [];
  return [...controllers, join(root, "kubepods.slice"), join(root, "kubepods")].filter((d) => existsSync(d));
}

/** The heading each step is shown under. */
function heading(config: ClusterConfig, name: DownStep): string {
  if (DOWN_STEPS.indexOf(name) < DOWN_STEPS.indexOf("kube-scheduler"))
    return "stopping the node (lb-controller, kubelet, pods, containerd, kube-proxy)";
  if (DOWN_STEPS.indexOf(name) <= DOWN_STEPS.indexOf("etcd")) return "stopping the control plane";
  return `removing network namespaces, the ${config.network.bridge} bridge, iptables rules/chains, mounts, cgroups`;
}

function downSteps(config: ClusterConfig): Record<DownStep, () => Promise<void>> {
  const stop = (name: (typeof COMPONENTS)[number]) => () => stopComponent(config, name);
  const kubeProxy = join(config.builds.kubernetes, "kube-proxy");
  return {
    "lb-controller": stop("lb-controller"),
    kubelet: stop("kubelet"),
    "remove-pods": async () => {
      if (!running(config, "containerd") || !existsSync(join(config.builds.criTools, "crictl"))) return;
      const pods = (await crictl(config, ["pods", "-q"]).catch(() => "")).split("\n").filter(Boolean);
      if (pods.length === 0) return;
      say(`   stopping and removing ${pods.length} pod sandbox(es) (CNI teardown)`);
      await crictl(config, ["stopp", ...pods]).catch(() => "");
      await crictl(config, ["rmp", "-f", ...pods]).catch(() => "");
    },
    containerd: stop("containerd"),
    "containerd-shims": async () => {
      for (const pid of ourShims(processes(), config.paths.containerdSocket)) {
        await stopPid(pid, "containerd-shim");
        say(`   stopped containerd-shim (pid ${pid})`);
      }
    },
    "kube-proxy": stop("kube-proxy"),
    "kube-scheduler": stop("kube-scheduler"),
    "kube-controller-manager": stop("kube-controller-manager"),
    "kube-apiserver": stop("kube-apiserver"),
    etcd: stop("etcd"),
    // kube-proxy's own cleanup leaves some chains behind: the iptables sweep removes them
    "kube-proxy-cleanup": async () => {
      if (!existsSync(kubeProxy)) return;
      await run(kubeProxy, ["--cleanup", "--proxy-mode=iptables"], {
        reject: false,
        stdout: { file: logFile(config, "kube-proxy-cleanup") },
        stderr: { file: logFile(config, "kube-proxy-cleanup"), append: true },
      });
    },
    iptables: () => sweepIptables(config),
    bridge: async () => {
      if (await bridgeExists(config)) await succeeds("ip", ["link", "delete", config.network.bridge]);
    },
    netns: async () => {
      const state = join(config.state, "containerd", "state");
      for (const dir of [join(state, "netns"), join(state, "io.containerd.grpc.v1.cri", "netns")]) {
        if (!existsSync(dir)) continue;
        for (const entry of readdirSync(dir)) {
          await unmount(join(dir, entry));
          rmSync(join(dir, entry), { force: true });
        }
      }
    },
    conntrack: async () => {
      for (const flag of ["-s", "-d"]) await succeeds("conntrack", ["-D", flag, config.network.podCidr]);
    },
    "cni-ipam": async () => rmSync(join(config.state, "cni", "ipam"), { recursive: true, force: true }),
    mounts: async () => {
      for (const path of stateMounts(config)) if (!(await unmount(path))) say(`   could not unmount ${path}`);
    },
    cgroups: async () => kubepodsCgroups().forEach(removeEmptyDirs),
    "run-files": async () => {
      const runDir = config.paths.run;
      for (const file of ["up.ok", "iptables-chains-before", "lb.list", "lb.list.tmp"])
        rmSync(join(runDir, file), { force: true });
    },
  };
}

/** Processes of a cluster with another state folder: our Kubernetes and etcd daemons whose command line does not name ours. */
export function otherClusterPids(
  procs: { pid: number; exe: string | undefined; cmdline: string[] }[],
  config: ClusterConfig,
): number[] {
  const daemons = [config.builds.kubernetes, config.builds.etcd].map((dir) => `${dir}/`);
  return procs
    .filter(
      (p) =>
        daemons.some((dir) => p.exe?.startsWith(dir)) &&
        !p.exe?.endsWith("/kubectl") &&
        !p.cmdline.join(" ").includes(`${config.state}/`),
    )
    .map((p) => p.pid);
}

/**
 * Whether anything of the cluster is left on the host: a daemon, a shim, a mount; and, when no
 * other cluster runs here, the bridge or our FORWARD chain.
 */
async function leftOnHost(config: ClusterConfig, otherCluster: boolean): Promise<boolean> {
  return (
    anyRunning(config) ||
    ourShims(processes(), config.paths.containerdSocket).length > 0 ||
    stateMounts(config).length > 0 ||
    (!otherCluster && ((await bridgeExists(config)) || (await forwardChainExists())))
  );
}

export async function down(config: ClusterConfig, purge: boolean): Promise<void> {
  needRoot();
  const started = performance.now();
  await takeLock(lockFile(config, "run"));
  const others = otherClusterPids(processes(), config);
  if (others.length > 0)
    say(
      `another cluster runs on this host (pid ${others[0]} does not use ${config.state}): its bridge, iptables rules and cgroups are left alone`,
    );
  const anything = await leftOnHost(config, others.length > 0);
  if (!anything) say("cluster is not running: nothing to stop");
  const steps = downSteps(config);
  let shown = "";
  for (const name of downPlan(anything, purge, others.length > 0)) {
    if (name === "purge") {
      if (!existsSync(config.state)) continue;
      for (const path of stateMounts(config)) await unmount(path);
      rmSync(config.state, { recursive: true, force: true });
      say(`purged cluster state ${config.state} (build cache kept)`);
      continue;
    }
    if (heading(config, name) !== shown) step((shown = heading(config, name)));
    await steps[name]();
    if (name === "run-files") stepEnd();
  }
  say(`down in ${seconds(started)}`);
}
