import { isOneShot } from "../core/docker";
import type { ResourceRule } from "../core/types";
import { str } from "../core/values";
import { dockerWorkload } from "../core/workloads";

interface Config {
  allowedPolicies: string[];
}

export const dockerRestartPolicy: ResourceRule<Config> = {
  kind: "resource",
  name: "docker-restart-policy",
  description:
    "Long-running Docker containers come back after a crash or a host reboot (restart unless-stopped or always); one-shot containers (attach: true) are exempt.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation: 'Set `restart: "unless-stopped"` on the container.',
  targets: ["docker"],
  config: {
    schema: {
      allowedPolicies: {
        type: "array",
        items: { type: "string", enum: ["no", "on-failure", "always", "unless-stopped"] },
        default: ["unless-stopped", "always"],
        description: "Restart policies a long-running container may use.",
      },
    },
    defaults: { allowedPolicies: ["unless-stopped", "always"] },
  },
  validate(subject, config) {
    if (!dockerWorkload(subject) || isOneShot(subject)) return [];
    const policy = str(subject.props.restart) ?? "no";
    return config.allowedPolicies.includes(policy)
      ? []
      : [
          `the container's restart policy is ${JSON.stringify(policy)} (allowed: ${config.allowedPolicies.join(", ")})`,
        ];
  },
};
