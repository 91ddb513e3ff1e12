// The host firewall the plan implies: SSH from the allowed sources, and the ports nginx
// publishes. Rendered into iptables rules by ../firewall, applied by the firewall workload.
import type { StackSettings } from "../config/types";
import type { FirewallPlan } from "./types";

export function planFirewall(s: StackSettings, stack: string): FirewallPlan {
  const world = ["0.0.0.0/0"];
  const published = [
    { port: s.nginx.httpPort, protocol: "tcp" as const, from: world, purpose: "HTTP (redirects to HTTPS)" },
    { port: s.nginx.httpsPort, protocol: "tcp" as const, from: world, purpose: "HTTPS and WebSocket" },
  ];
  return {
    enabled: s.target === "docker" && s.firewall.enabled,
    owner: `chatapi-${stack}`,
    externalInterface: s.firewall.externalInterface,
    inbound: [
      { port: s.firewall.sshPort, protocol: "tcp", from: s.firewall.sshAllowFrom, purpose: "SSH" },
      ...published,
    ],
    published,
  };
}
