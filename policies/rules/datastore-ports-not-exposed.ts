import { describeContainer, isKind, stringMap } from "../core/kubernetes";
import { DATA_STORES, DATA_STORE_ALL_PORTS, type DataStore, isDataStore } from "../core/roles";
import type { ResourceRule } from "../core/types";
import { at, dicts, list, num, str } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

/** Which data store a port number belongs to. */
function storeOfPort(port: number | undefined): DataStore | undefined {
  return DATA_STORES.find((store) => port !== undefined && DATA_STORE_ALL_PORTS[store].includes(port));
}

function serviceFindings(props: Record<string, unknown>): string[] {
  const spec = at(props, "spec");
  const type = str(at(spec, "type")) ?? "ClusterIP";
  const external = type === "LoadBalancer" || type === "NodePort" || list(at(spec, "externalIPs")).length > 0;
  if (!external) return [];
  const out: string[] = [];
  const component = stringMap(at(spec, "selector"))["app.kubernetes.io/component"];
  if (isDataStore(component)) out.push(`the ${type} Service exposes ${component} outside the cluster`);
  for (const port of dicts(at(spec, "ports"))) {
    const numbers = [num(port.port), num(port.targetPort)];
    const store = numbers.map(storeOfPort).find(Boolean);
    if (store && !isDataStore(component))
      out.push(`the ${type} Service exposes port ${numbers.filter(Boolean).join("→")}, a ${store} port`);
  }
  return out;
}

export const datastorePortsNotExposed: ResourceRule = {
  kind: "resource",
  name: "datastore-ports-not-exposed",
  description:
    "PostgreSQL, Redis and RabbitMQ ports are never reachable from outside: not published on the Docker host, not behind a LoadBalancer/NodePort Service, no hostPort.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediation:
    "Docker: remove `ports` from the data store container (the app reaches it over the internal backend network). Kubernetes: make its Service type ClusterIP (headless for StatefulSets) and remove hostPort; operators reach it with `kubectl port-forward`.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    if (isKind(subject, "Service")) return serviceFindings(subject.props);
    const workload = kubernetesWorkload(subject);
    if (workload) {
      return workload.containers.flatMap((c) =>
        dicts(c.spec.ports)
          .filter((p) => (num(p.hostPort) ?? 0) > 0)
          .filter((p) => isDataStore(workload.role) || storeOfPort(num(p.containerPort)))
          .map(
            (p) =>
              `${describeContainer(c)} (role ${workload.role ?? "unknown"}) binds data-store port ${num(p.containerPort)} to host port ${num(p.hostPort)}`,
          ),
      );
    }
    const container = dockerWorkload(subject);
    if (!container) return [];
    const out: string[] = [];
    for (const port of dicts(subject.props.ports)) {
      const internal = num(port.internal);
      const external = num(port.external) ?? internal;
      const ip = str(port.ip) ?? "0.0.0.0";
      if (isDataStore(container.role))
        out.push(`the ${container.role} container publishes port ${internal} on ${ip}:${external}`);
      else if (storeOfPort(internal))
        out.push(
          `the container publishes port ${internal} (a ${storeOfPort(internal)} port) on ${ip}:${external}`,
        );
    }
    if (isDataStore(container.role) && subject.props.publishAllPorts === true)
      out.push(`the ${container.role} container publishes all its ports (publishAllPorts: true)`);
    return out;
  },
};
