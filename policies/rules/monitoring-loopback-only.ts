import { isKind, stringMap } from "../core/kubernetes";
import { isLoopback, isMonitoring } from "../core/roles";
import type { ResourceRule } from "../core/types";
import { at, dicts, known, list, num, str } from "../core/values";
import { dockerWorkload } from "../core/workloads";

/**
 * Prometheus, Alertmanager, the Pushgateway and the exporters have no authentication: whoever
 * reaches them reads every metric (and may push or silence). On a Docker host they are published
 * on the host's loopback at most (an operator uses an SSH tunnel); on Kubernetes their Services
 * stay inside the cluster.
 */
export const monitoringLoopbackOnly: ResourceRule = {
  kind: "resource",
  name: "monitoring-loopback-only",
  description:
    "Monitoring endpoints (Prometheus, Alertmanager, Pushgateway, exporters) are never published to the world: on a Docker host only on 127.0.0.1/::1, on Kubernetes behind ClusterIP Services only.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Docker: publish the port as 127.0.0.1:<port>:<port> (chatapi:monitoring.prometheusPort and chatapi:monitoring.alertmanager.port are always on loopback) and reach it with `ssh -L`; exporters need no published port at all. Kubernetes: make the Service ClusterIP and use `kubectl port-forward`.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    if (isKind(subject, "Service")) {
      const spec = at(subject.props, "spec");
      const component = stringMap(at(spec, "selector"))["app.kubernetes.io/component"];
      if (!isMonitoring(component, undefined)) return [];
      const type = str(at(spec, "type")) ?? "ClusterIP";
      const out: string[] = [];
      if (type === "LoadBalancer" || type === "NodePort")
        out.push(`the ${type} Service exposes ${component} outside the cluster`);
      if (list(at(spec, "externalIPs")).length > 0)
        out.push(`the Service exposes ${component} on externalIPs`);
      return out;
    }
    const container = dockerWorkload(subject);
    // The image is unknown during a preview (an ID from the image resource): the role decides then.
    if (
      !container ||
      !isMonitoring(
        container.role,
        known(() => str(subject.props.image)),
      )
    )
      return [];
    const what = container.role ?? "monitoring";
    const out = dicts(subject.props.ports)
      .filter((port) => !isLoopback(str(port.ip) ?? "0.0.0.0"))
      .map(
        (port) =>
          `the ${what} container publishes port ${num(port.internal)} on ${str(port.ip) ?? "0.0.0.0"}:${num(port.external) ?? num(port.internal)}, not on the host's loopback`,
      );
    if (subject.props.publishAllPorts === true)
      out.push(`the ${what} container publishes all its ports (publishAllPorts: true) on every address`);
    return out;
  },
};
