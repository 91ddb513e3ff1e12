import { isOneShot } from "../core/docker";
import { LONG_RUNNING_KINDS, describeContainer } from "../core/kubernetes";
import type { ResourceRule } from "../core/types";
import { isDict, list } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

interface Config {
  dockerExemptRoles: string[];
}

export const healthProbes: ResourceRule<Config> = {
  kind: "resource",
  name: "health-probes",
  description:
    "Long-running Kubernetes containers have readiness and liveness probes; long-running Docker containers a health check.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "Kubernetes: add readinessProbe (/health/ready) and livenessProbe (/health) to each container. Docker: add a healthcheck (tests: [CMD, ...]); one-shot containers (attach: true) are exempt.",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      dockerExemptRoles: {
        type: "array",
        items: { type: "string" },
        default: ["backup", "nginx-exporter"],
        description:
          "Docker roles without a health check: the scheduled backup daemon (a Kubernetes CronJob, which has no probes either) and the nginx exporter (its official image has no shell or HTTP client; Prometheus's `up` is its health).",
      },
    },
    defaults: { dockerExemptRoles: ["backup", "nginx-exporter"] },
  },
  validate(subject, config) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      if (!LONG_RUNNING_KINDS.includes(workload.kind)) return [];
      return workload.containers
        .filter((c) => c.kind === "container")
        .flatMap((c) => {
          const missing = ["readinessProbe", "livenessProbe"].filter((probe) => !isDict(c.spec[probe]));
          return missing.length > 0 ? [`${describeContainer(c)} has no ${missing.join(" and no ")}`] : [];
        });
    }
    const container = dockerWorkload(subject);
    if (!container || isOneShot(subject)) return [];
    if (container.role && config.dockerExemptRoles.includes(container.role)) return [];
    const healthcheck = subject.props.healthcheck;
    const tests = isDict(healthcheck) ? list(healthcheck.tests) : [];
    if (tests.length === 0) return ["the container has no health check (healthcheck is unset)"];
    if (tests[0] === "NONE") return ["the container disables its health check (healthcheck tests: [NONE])"];
    return [];
  },
};
