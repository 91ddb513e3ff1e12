// Host firewall rules for a Docker host, rendered from the plan (pure).
//
// ufw alone is not enough: Docker publishes ports with its own DNAT rules in the nat table
// and FORWARD chain, which ufw's INPUT rules never see. Docker leaves the DOCKER-USER chain to
// the administrator and jumps to it before its own forwarding rules, so that is where traffic
// to containers is filtered. After DNAT the destination port is the container's, so rules
// match the port the client asked for with conntrack's --ctorigdstport.
import type { FirewallPlan } from "../plan/types";

export interface RenderedFirewall {
  /** ufw commands: default deny incoming, allow SSH/HTTP/HTTPS. */
  ufw: string;
  /** iptables-restore input (apply with --noflush) for IPv4. */
  dockerUserIpv4: string;
  /** The same for ip6tables-restore. */
  dockerUserIpv6: string;
}

const isIpv6 = (cidr: string) => cidr.includes(":");

function ufwScript(plan: FirewallPlan): string {
  const lines = [
    "#!/bin/sh",
    "# Rendered by the chatapi toolkit: host firewall for a Docker host (run as root).",
    "# ufw filters traffic to the host itself; traffic to published container ports is",
    "# filtered by the DOCKER-USER rules in the files beside this one.",
    "set -e",
    "ufw default deny incoming",
    "ufw default allow outgoing",
    "ufw default deny routed",
  ];
  for (const rule of plan.inbound) {
    for (const from of rule.from) {
      const source = from === "0.0.0.0/0" ? "" : `from ${from} `;
      const target = source
        ? `to any port ${rule.port} proto ${rule.protocol}`
        : `${rule.port}/${rule.protocol}`;
      lines.push(`ufw allow ${source}${target} comment '${rule.purpose}'`);
    }
  }
  lines.push("ufw --force enable", "");
  return lines.join("\n");
}

function dockerUserRules(plan: FirewallPlan, family: 4 | 6): string {
  const anywhere = family === 4 ? "0.0.0.0/0" : "::/0";
  const lines = [
    "# Rendered by the chatapi toolkit: the DOCKER-USER chain of a Docker host.",
    `# Apply: ${family === 4 ? "iptables" : "ip6tables"}-restore --noflush < this-file (replaces only DOCKER-USER).`,
    "*filter",
    ":DOCKER-USER - [0:0]",
    "# Replies to connections already allowed, and everything not coming in from outside.",
    "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
    `-A DOCKER-USER ! -i ${plan.externalInterface} -j RETURN`,
  ];
  for (const rule of plan.published) {
    for (const from of rule.from) {
      const source = from === "0.0.0.0/0" ? anywhere : from;
      if (isIpv6(source) !== (family === 6)) continue;
      const src = source === anywhere ? "" : `-s ${source} `;
      lines.push(
        `# ${rule.purpose}`,
        `-A DOCKER-USER -i ${plan.externalInterface} ${src}-p ${rule.protocol} -m conntrack --ctorigdstport ${rule.port} --ctdir ORIGINAL -j RETURN`,
      );
    }
  }
  lines.push(
    "# Anything else from outside to a container is dropped.",
    `-A DOCKER-USER -i ${plan.externalInterface} -j DROP`,
    "COMMIT",
    "",
  );
  return lines.join("\n");
}

export function renderFirewall(plan: FirewallPlan): RenderedFirewall {
  return {
    ufw: ufwScript(plan),
    dockerUserIpv4: dockerUserRules(plan, 4),
    dockerUserIpv6: dockerUserRules(plan, 6),
  };
}
