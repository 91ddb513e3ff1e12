import { describeContainer } from "../core/kubernetes";
import { isLoadBalancer, isLoopback } from "../core/roles";
import type { ResourceRule } from "../core/types";
import { dicts, num, str } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

interface Config {
  loopbackRoles: string[];
}

export const noHostPorts: ResourceRule<Config> = {
  kind: "resource",
  name: "no-host-ports",
  description:
    "Only the load balancer faces clients: no Kubernetes hostPort, and on a Docker host only the nginx container publishes ports (Prometheus and Alertmanager may publish on the host's loopback).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: remove hostPort and reach the pods through a Service. Docker: remove `ports`/`publishAllPorts` from this container and let nginx proxy to it over a private network.",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      loopbackRoles: {
        type: "array",
        items: { type: "string" },
        default: ["prometheus", "alertmanager"],
        description:
          "Docker roles that may publish ports on the host's loopback (127.0.0.1, ::1) only: the stack's Prometheus and Alertmanager, for an operator on the host or an SSH tunnel.",
      },
    },
    defaults: { loopbackRoles: ["prometheus", "alertmanager"] },
  },
  validate(subject, config) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      return workload.containers.flatMap((c) =>
        dicts(c.spec.ports)
          .filter((p) => (num(p.hostPort) ?? 0) > 0)
          .map((p) => `${describeContainer(c)} binds host port ${num(p.hostPort)} (hostPort)`),
      );
    }
    const container = dockerWorkload(subject);
    if (!container || isLoadBalancer(container.role)) return [];
    const messages: string[] = [];
    const onLoopbackOnly = (p: Record<string, unknown>) =>
      container.role !== undefined &&
      config.loopbackRoles.includes(container.role) &&
      isLoopback(str(p.ip) ?? "0.0.0.0");
    const published = dicts(subject.props.ports)
      .filter((p) => !onLoopbackOnly(p))
      .map((p) => num(p.external) ?? num(p.internal))
      .filter((p) => p !== undefined);
    if (published.length > 0)
      messages.push(
        `the container (role ${container.role ?? "unknown"}) publishes port${published.length > 1 ? "s" : ""} ${published.join(", ")} on the host; only the load balancer may`,
      );
    if (subject.props.publishAllPorts === true)
      messages.push(
        `the container (role ${container.role ?? "unknown"}) publishes all its ports (publishAllPorts: true)`,
      );
    return messages;
  },
};
