import { type ContainerRef, describeContainer } from "../core/kubernetes";
import { quantity } from "../core/quantity";
import type { ResourceRule } from "../core/types";
import { at, num } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

function kubernetesProblems(c: ContainerRef): string[] {
  const out: string[] = [];
  for (const resource of ["cpu", "memory"]) {
    const request = at(c.spec, "resources", "requests", resource);
    const limit = at(c.spec, "resources", "limits", resource);
    const missing = [
      ...((quantity(request) ?? 0) > 0 ? [] : [`requests.${resource}`]),
      ...((quantity(limit) ?? 0) > 0 ? [] : [`limits.${resource}`]),
    ];
    if (missing.length > 0) out.push(`${describeContainer(c)} sets no ${missing.join(" or ")}`);
    else if (quantity(request)! > quantity(limit)!)
      out.push(
        `${describeContainer(c)} requests more ${resource} (${String(request)}) than its limit (${String(limit)})`,
      );
  }
  return out;
}

export const resourceRequestsLimits: ResourceRule = {
  kind: "resource",
  name: "resource-requests-limits",
  description:
    "Every container has CPU and memory requests and limits (Kubernetes); every Docker container a memory limit.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "Kubernetes: set resources.requests and resources.limits for cpu and memory (the stack config's <role>.cpu / <role>.memory). Docker: set `memory` (MiB), and `memoryReservation` for the guaranteed share.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const workload = kubernetesWorkload(subject);
    if (workload)
      return workload.containers.filter((c) => c.kind !== "ephemeral container").flatMap(kubernetesProblems);
    if (!dockerWorkload(subject)) return [];
    return (num(subject.props.memory) ?? 0) > 0
      ? []
      : ["the container has no memory limit (memory is unset)"];
  },
};
