import { describeContainer } from "../core/kubernetes";
import { isHostFirewall } from "../core/docker";
import type { ResourceRule } from "../core/types";
import { at, list } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

interface Config {
  allowedCapabilities: string[];
}

const strings = (value: unknown) => list(value).filter((v): v is string => typeof v === "string");
/** `CAP_NET_ADMIN` and `net_admin` are the same capability. */
const capability = (name: string) => name.toUpperCase().replace(/^CAP_/, "");

function problems(drops: string[], adds: string[], allowed: string[]): string[] {
  const out: string[] = [];
  if (!drops.map(capability).includes("ALL")) out.push("does not drop ALL capabilities");
  const extra = adds.map(capability).filter((cap) => !allowed.map(capability).includes(cap));
  if (extra.length > 0)
    out.push(`adds ${extra.join(", ")} (allowed: ${allowed.length ? allowed.join(", ") : "none"})`);
  return out;
}

export const dropAllCapabilities: ResourceRule<Config> = {
  kind: "resource",
  name: "drop-all-capabilities",
  description: "Containers drop ALL Linux capabilities and add back only allowed ones.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: securityContext.capabilities.drop: [ALL]. Docker: capabilities.drops: [ALL]. Add back only what the process needs and list it in this rule's allowedCapabilities.",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      allowedCapabilities: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Capabilities a container may add back (e.g. NET_BIND_SERVICE).",
      },
    },
    defaults: { allowedCapabilities: [] },
  },
  validate(subject, config) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      return workload.containers.flatMap((c) => {
        const caps = at(c.spec, "securityContext", "capabilities");
        return problems(strings(at(caps, "drop")), strings(at(caps, "add")), config.allowedCapabilities).map(
          (p) => `${describeContainer(c)} ${p}`,
        );
      });
    }
    if (!dockerWorkload(subject) || isHostFirewall(subject)) return [];
    const caps = subject.props.capabilities;
    return problems(strings(at(caps, "drops")), strings(at(caps, "adds")), config.allowedCapabilities).map(
      (p) => `the container ${p}`,
    );
  },
};
