import { describeContainer } from "../core/kubernetes";
import type { ResourceRule } from "../core/types";
import { at, list, str } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

const CONFINED = ["RuntimeDefault", "Localhost"];

export const seccompRuntimeDefault: ResourceRule = {
  kind: "resource",
  name: "seccomp-runtime-default",
  description:
    "System calls are filtered by seccomp: Kubernetes seccompProfile RuntimeDefault (or Localhost); Docker keeps its default profile (never seccomp=unconfined).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "Kubernetes: set securityContext.seccompProfile.type: RuntimeDefault on the pod (or each container). Docker: remove `seccomp=unconfined` from securityOpts (the engine then applies its default profile).",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      const podProfile = str(at(workload.pod, "securityContext", "seccompProfile", "type"));
      return workload.containers.flatMap((c) => {
        const profile = str(at(c.spec, "securityContext", "seccompProfile", "type")) ?? podProfile;
        if (profile && CONFINED.includes(profile)) return [];
        return [
          `${describeContainer(c)} has seccomp profile ${profile ?? "unset (Unconfined unless the kubelet defaults it)"}; it must be RuntimeDefault or Localhost`,
        ];
      });
    }
    if (!dockerWorkload(subject)) return [];
    const options = list(subject.props.securityOpts).filter((o): o is string => typeof o === "string");
    return options.some((o) => /^seccomp[:=]unconfined$/.test(o))
      ? ["the container runs without seccomp filtering (securityOpts: seccomp=unconfined)"]
      : [];
  },
};
