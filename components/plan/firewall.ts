// The host firewall the plan implies: SSH from the allowed sources, and the ports nginx
// publishes. Rendered into ufw commands and DOCKER-USER rules by ../firewall.
import type { StackSettings } from "../config/types";
import type { FirewallPlan } from "./types";

export function planFirewall(s: StackSettings): FirewallPlan {
  const world = ["0.0.0.0/0"];
  const published = [
    { port: s.nginx.httpPort, protocol: "tcp" as const, from: world, purpose: "HTTP (redirects to HTTPS)" },
    { port: s.nginx.httpsPort, protocol: "tcp" as const, from: world, purpose: "HTTPS and WebSocket" },
  ];
  return {
    externalInterface: s.firewall.externalInterface,
    inbound: [
      { port: s.firewall.sshPort, protocol: "tcp", from: s.firewall.sshAllowFrom, purpose: "SSH" },
      ...published,
    ],
    published,
  };
}
