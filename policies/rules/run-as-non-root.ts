import { describeContainer } from "../core/kubernetes";
import { isHostFirewall } from "../core/docker";
import type { ResourceRule } from "../core/types";
import { at, num, str } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

export const runAsNonRoot: ResourceRule = {
  kind: "resource",
  name: "run-as-non-root",
  description:
    "Processes run as a non-root user: Kubernetes runAsNonRoot true (and no runAsUser 0), Docker a numeric non-zero uid.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: set securityContext.runAsNonRoot: true and a numeric runAsUser other than 0 (pod or container level). Docker: set `user` to the image's non-root uid:gid (e.g. 10001:10001); a numeric uid, because a user name cannot be checked before the container starts.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      const pod = at(workload.pod, "securityContext");
      return workload.containers.flatMap((c) => {
        const own = at(c.spec, "securityContext");
        const nonRoot = at(own, "runAsNonRoot") ?? at(pod, "runAsNonRoot");
        const user = num(at(own, "runAsUser") ?? at(pod, "runAsUser"));
        if (user === 0) return [`${describeContainer(c)} runs as root (runAsUser: 0)`];
        if (nonRoot !== true)
          return [
            `${describeContainer(c)} may run as root (runAsNonRoot is not true at pod or container level)`,
          ];
        return [];
      });
    }
    if (!dockerWorkload(subject) || isHostFirewall(subject)) return [];
    const user = str(subject.props.user);
    if (!user) return ["the container runs as the image's default user (`user` is unset), which may be root"];
    const uid = user.split(":")[0]!;
    if (uid === "root" || uid === "0") return [`the container runs as root (user ${JSON.stringify(user)})`];
    if (!/^\d+$/.test(uid))
      return [
        `the container's user ${JSON.stringify(user)} is a name, not a numeric uid; its uid cannot be checked`,
      ];
    return [];
  },
};
