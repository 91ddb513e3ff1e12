import { isKind } from "../core/kubernetes";
import type { ResourceRule } from "../core/types";
import { at, dicts, list, num, str } from "../core/values";

export const noNodePortExternalIps: ResourceRule = {
  kind: "resource",
  name: "no-nodeport-external-ips",
  description:
    "Services are not exposed on every node (type NodePort, explicit nodePort) or on arbitrary addresses (externalIPs, which also allows traffic interception, CVE-2020-8554).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Use type ClusterIP for internal Services and one LoadBalancer Service (or a Gateway) for nginx; remove externalIPs and nodePort.",
  targets: ["kubernetes"],
  validate(subject) {
    if (!isKind(subject, "Service")) return [];
    const spec = at(subject.props, "spec");
    const out: string[] = [];
    if (str(at(spec, "type")) === "NodePort") out.push("the Service is of type NodePort");
    const explicit = dicts(at(spec, "ports"))
      .map((p) => num(p.nodePort))
      .filter((p): p is number => p !== undefined && p > 0);
    if (explicit.length > 0)
      out.push(`the Service pins node port${explicit.length > 1 ? "s" : ""} ${explicit.join(", ")}`);
    if (list(at(spec, "externalIPs")).length > 0) out.push("the Service sets externalIPs");
    return out;
  },
};
