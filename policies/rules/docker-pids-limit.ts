import type { ResourceRule } from "../core/types";
import { dicts, str } from "../core/values";
import { dockerWorkload } from "../core/workloads";

/**
 * @pulumi/docker 5.2 cannot set a container's pids limit (`docker run --pids-limit`): its
 * Container has no such field. What it can express: a `nproc` ulimit (RLIMIT_NPROC; counted per
 * uid across the host, so a coarse guard) or a cgroupParent whose pids.max the host sets. This
 * rule is advisory for that reason: it reports containers with neither.
 */
export const dockerPidsLimit: ResourceRule = {
  kind: "resource",
  name: "docker-pids-limit",
  description:
    "Docker containers should be limited in how many processes they start (fork-bomb guard). @pulumi/docker 5.2 has no pids-limit field, so this is advisory and accepts what it can express: an nproc ulimit or a cgroupParent.",
  enforcementLevel: "advisory",
  severity: "low",
  remediation:
    'Add `ulimits: [{ name: "nproc", soft: N, hard: N }]` (per-uid, host-wide) or run the container under a `cgroupParent` whose pids.max the host sets; with a newer docker provider, set the pids limit directly. The compose render and Kubernetes apply the plan\'s pidsLimit.',
  targets: ["docker"],
  validate(subject) {
    if (!dockerWorkload(subject)) return [];
    const nproc = dicts(subject.props.ulimits).some((u) => u.name === "nproc");
    if (nproc || str(subject.props.cgroupParent)) return [];
    return [
      "the container has no process limit (no nproc ulimit, no cgroupParent; @pulumi/docker 5.2 cannot set --pids-limit)",
    ];
  },
};
