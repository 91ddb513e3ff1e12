import { hostPathsOf } from "../core/host-paths";
import type { ResourceRule } from "../core/types";

/** Host folders whose contents give a container control of the host (or its secrets). */
export const SENSITIVE_HOST_PATHS = [
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib64",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var/lib/containerd",
  "/var/lib/docker",
  "/var/lib/kubelet",
  "/var/log",
  "/var/run",
];

const covers = (parent: string, path: string) =>
  parent === "/" ? path === "/" : path === parent || path.startsWith(`${parent}/`);

export const noHostPaths: ResourceRule = {
  kind: "resource",
  name: "no-host-paths",
  description:
    "Kubernetes pods must not mount hostPath volumes; Docker containers must not bind-mount system folders of the host or its devices.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: use a PersistentVolumeClaim (or emptyDir for scratch space) instead of hostPath. Docker: use a named volume, or bind a dedicated data folder (e.g. /opt/chatapi/backups), never /, /etc, /proc, /sys, /dev, /var/run or the engine's own folders; remove `devices`.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const mounts = hostPathsOf(subject);
    if (!mounts) return [];
    if (mounts.target === "kubernetes") {
      return mounts.paths.map((m) => `${m.where} mounts the host path ${m.path} (hostPath)`);
    }
    const messages = mounts.paths
      .filter((m) => SENSITIVE_HOST_PATHS.some((parent) => covers(parent, m.path)))
      .map((m) => `${m.where} bind-mounts the host's ${m.path}`);
    for (const device of mounts.devices)
      messages.push(`the container gets the host device ${device} (devices)`);
    return messages;
  },
};
