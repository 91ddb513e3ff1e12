import { describeContainer } from "../core/kubernetes";
import type { ResourceRule } from "../core/types";
import { at } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

export const noPrivilegedContainers: ResourceRule = {
  kind: "resource",
  name: "no-privileged-containers",
  description: "Containers must not run privileged (full access to the host's devices and kernel).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediation:
    "Remove `privileged: true` (Kubernetes securityContext.privileged, Docker `privileged`); add back the one capability the process needs instead.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      return workload.containers
        .filter((c) => at(c.spec, "securityContext", "privileged") === true)
        .map((c) => `${describeContainer(c)} runs privileged (securityContext.privileged: true)`);
    }
    const container = dockerWorkload(subject);
    if (container && subject.props.privileged === true)
      return ["the container runs privileged (privileged: true)"];
    return [];
  },
};
