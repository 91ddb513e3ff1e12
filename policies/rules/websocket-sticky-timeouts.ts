import { isKind, objectName } from "../core/kubernetes";
import {
  type Directive,
  type NginxConfig,
  blocks,
  directives,
  first,
  httpScope,
  locationLabel,
  locations,
  nginxConfigs,
  seconds,
  servers,
} from "../core/nginx";
import type { StackFinding, StackRule, Subject } from "../core/types";
import { at, dicts, str } from "../core/values";

interface Config {
  minReadTimeoutSeconds: number;
}

const STICKY = ["hash", "ip_hash", "sticky"];

const header = (scope: Directive[] | undefined, name: string) =>
  directives(scope, "proxy_set_header").find((d) => d.args[0]?.toLowerCase() === name.toLowerCase());

/** A directive's value as nginx inherits it: the innermost scope that sets it. */
const inherited = (scopes: (Directive[] | undefined)[], name: string) =>
  scopes.map((scope) => first(scope, name)).find((d) => d !== undefined);

function locationProblems(
  config: NginxConfig,
  server: Directive,
  location: Directive,
  min: number,
): string[] {
  const http = httpScope(config);
  const scopes = [location.children, server.children, http];
  const out: string[] = [];
  const where = locationLabel(location);
  if (inherited(scopes, "proxy_http_version")?.args[0] !== "1.1")
    out.push(`${where} does not proxy with HTTP/1.1 (proxy_http_version 1.1), so the upgrade cannot pass`);
  const connection = header(location.children, "Connection");
  if (!connection || !/upgrade/i.test(connection.args[1] ?? ""))
    out.push(`${where} does not forward Connection: upgrade`);
  const timeout = inherited(scopes, "proxy_read_timeout");
  const value = timeout ? seconds(timeout.args[0] ?? "") : 60;
  if (value === undefined || value < min)
    out.push(
      `${where} closes idle WebSockets after ${timeout ? timeout.args[0] : "60s (the default)"} (proxy_read_timeout); at least ${min}s`,
    );
  const pass = first(location.children, "proxy_pass")?.args[0] ?? "";
  const upstreamName = /^https?:\/\/([^/:$]+)/.exec(pass)?.[1];
  const upstream = blocks(http, "upstream").find((u) => u.args[0] === upstreamName);
  if (!upstream)
    out.push(`${where} proxies to ${pass || "nothing"}, not to an upstream with sticky balancing`);
  else if (!STICKY.some((d) => directives(upstream.children, d).length > 0))
    out.push(
      `${where} proxies to upstream ${upstreamName}, which is not sticky (no hash, ip_hash or sticky): a reconnecting client may land elsewhere`,
    );
  return out;
}

function configProblems(config: NginxConfig, min: number): string[] {
  const out: string[] = [];
  let found = 0;
  for (const server of servers(config)) {
    for (const location of locations(server)) {
      if (!header(location.children, "Upgrade")) continue;
      found++;
      out.push(...locationProblems(config, server, location, min));
    }
  }
  if (found === 0)
    out.push("no location proxies WebSocket upgrades (proxy_set_header Upgrade $http_upgrade)");
  return out;
}

/** Gateway API: the route serving /ws needs session persistence (sticky). */
function routeProblems(subjects: Subject[]): StackFinding[] {
  return subjects
    .filter((s) => isKind(s, "HTTPRoute"))
    .flatMap((route) =>
      dicts(at(route.props, "spec", "rules"))
        .filter((rule) => dicts(rule.matches).some((m) => str(at(m, "path", "value"))?.startsWith("/ws")))
        .filter((rule) => rule.sessionPersistence === undefined)
        .map(() => ({
          subject: route,
          message: `HTTPRoute ${JSON.stringify(objectName(route))} serves /ws without sessionPersistence (not sticky)`,
        })),
    );
}

export const websocketStickyTimeouts: StackRule<Config> = {
  kind: "stack",
  name: "websocket-sticky-timeouts",
  description:
    "WebSocket traffic (/ws) reaches the API through a sticky upstream (hash/ip_hash/sticky), over HTTP/1.1 with the Upgrade and Connection headers, and an idle connection is kept at least an hour (proxy_read_timeout). A Gateway's /ws route needs sessionPersistence.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "In nginx: `location = /ws { proxy_pass http://<upstream with hash $remote_addr>; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; proxy_read_timeout 86400s; }` (chatapi:nginx.wsReadTimeoutSeconds).",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      minReadTimeoutSeconds: {
        type: "integer",
        minimum: 60,
        default: 3600,
        description: "Shortest idle WebSocket lifetime nginx may allow (proxy_read_timeout).",
      },
    },
    defaults: { minReadTimeoutSeconds: 3600 },
  },
  validate(subjects, config) {
    return [
      ...nginxConfigs(subjects).flatMap((c) =>
        configProblems(c, config.minReadTimeoutSeconds).map((problem) => ({
          subject: c.subject,
          message: `nginx config (${c.source}): ${problem}`,
        })),
      ),
      ...routeProblems(subjects),
    ];
  },
};
