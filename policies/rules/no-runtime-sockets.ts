import { hostPathsOf } from "../core/host-paths";
import type { ResourceRule } from "../core/types";

/** Container runtime API sockets: whoever reaches one controls every container on the host. */
const RUNTIME_SOCKETS = [
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/var/run/containerd/containerd.sock",
  "/run/containerd/containerd.sock",
  "/var/run/crio/crio.sock",
  "/run/crio/crio.sock",
  "/var/run/podman/podman.sock",
  "/run/podman/podman.sock",
  "/var/run/cri-dockerd.sock",
  "/run/cri-dockerd.sock",
];

/** The socket a mount exposes: the socket itself or a folder holding one. */
function exposedSocket(path: string): string | undefined {
  return RUNTIME_SOCKETS.find(
    (socket) => socket === path || socket.startsWith(path === "/" ? "/" : `${path}/`),
  );
}

export const noRuntimeSockets: ResourceRule = {
  kind: "resource",
  name: "no-runtime-sockets",
  description:
    "No workload may mount a container runtime socket (Docker, containerd, CRI-O, Podman) or a folder that holds one.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediation:
    "Remove the mount. A workload that must talk to the engine should go through a narrowly scoped API (a socket proxy allowing only the calls it needs), never the raw socket.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const mounts = hostPathsOf(subject);
    if (!mounts) return [];
    return mounts.paths.flatMap((m) => {
      const socket = exposedSocket(m.path);
      if (!socket) return [];
      const what = socket === m.path ? `the runtime socket ${socket}` : `${m.path}, which holds ${socket}`;
      return [`${m.where} exposes ${what}`];
    });
  },
};
