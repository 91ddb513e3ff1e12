import { isHostFirewall } from "../core/docker";
import type { ResourceRule } from "../core/types";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

const KUBERNETES_FIELDS = ["hostNetwork", "hostPID", "hostIPC"] as const;
const DOCKER_FIELDS = ["networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode"] as const;

export const noHostNamespaces: ResourceRule = {
  kind: "resource",
  name: "no-host-namespaces",
  description: "Containers must not share the host's network, process, IPC, user or cgroup namespace.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: drop hostNetwork/hostPID/hostIPC from the pod spec. Docker: use a user-defined network instead of networkMode host, and leave pidMode/ipcMode/usernsMode/cgroupnsMode unset (private).",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      return KUBERNETES_FIELDS.filter((field) => workload.pod[field] === true).map(
        (field) => `the pod shares a host namespace (${field}: true)`,
      );
    }
    if (!dockerWorkload(subject) || isHostFirewall(subject)) return [];
    return DOCKER_FIELDS.filter((field) => subject.props[field] === "host").map(
      (field) => `the container shares a host namespace (${field}: host)`,
    );
  },
};
