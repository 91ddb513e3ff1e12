import { describeContainer } from "../core/kubernetes";
import type { ResourceRule } from "../core/types";
import { at, list } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

const NO_NEW_PRIVILEGES = /^no-new-privileges([:=]true)?$/;

export const noPrivilegeEscalation: ResourceRule = {
  kind: "resource",
  name: "no-privilege-escalation",
  description:
    "Processes must not gain privileges (setuid binaries, file capabilities): Kubernetes allowPrivilegeEscalation false, Docker no-new-privileges.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: set securityContext.allowPrivilegeEscalation: false on every container. Docker: add `no-new-privileges:true` to securityOpts.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      return workload.containers
        .filter((c) => at(c.spec, "securityContext", "allowPrivilegeEscalation") !== false)
        .map(
          (c) =>
            `${describeContainer(c)} may escalate privileges (securityContext.allowPrivilegeEscalation is ${JSON.stringify(at(c.spec, "securityContext", "allowPrivilegeEscalation") ?? "unset")}; it must be false)`,
        );
    }
    if (!dockerWorkload(subject)) return [];
    const options = list(subject.props.securityOpts).filter((o): o is string => typeof o === "string");
    return options.some((o) => NO_NEW_PRIVILEGES.test(o))
      ? []
      : ["the container may gain privileges (securityOpts lacks no-new-privileges:true)"];
  },
};
