import { type EnvironmentSetting, environmentProperty, isProduction } from "../core/environment";
import { isKind, objectName } from "../core/kubernetes";
import {
  type Directive,
  type NginxConfig,
  directives,
  first,
  httpScope,
  listensWithTls,
  locationLabel,
  locations,
  nginxConfigs,
  servers,
} from "../core/nginx";
import type { StackFinding, StackRule, Subject } from "../core/types";
import { at, dicts, list, str } from "../core/values";
import { dockerWorkloads, kubernetesWorkloads } from "../core/workloads";

interface Config {
  minHstsMaxAgeSeconds: number;
  minHstsMaxAgeSecondsProduction: number;
  environment: EnvironmentSetting;
}

const MODERN = ["TLSv1.2", "TLSv1.3"];
const PASSES = ["proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass"];

const hsts = (scope: Directive[] | undefined) =>
  directives(scope, "add_header").find((d) => d.args[0]?.toLowerCase() === "strict-transport-security");

function maxAge(header: Directive): number | undefined {
  const match = /max-age=(\d+)/i.exec(header.args[1] ?? "");
  return match ? Number(match[1]) : undefined;
}

function serverLabel(server: Directive): string {
  const listen = directives(server.children, "listen")
    .map((l) => l.args[0])
    .join(", ");
  const names = first(server.children, "server_name")?.args.join(" ");
  return `server ${names ? `${names} ` : ""}(listen ${listen || "80"})`;
}

function tlsServerProblems(server: Directive, http: Directive[], minAge: number): string[] {
  const out: string[] = [];
  const label = serverLabel(server);
  const protocols = first(server.children, "ssl_protocols") ?? first(http, "ssl_protocols");
  if (!protocols)
    out.push(`${label} sets no ssl_protocols (nginx before 1.23.4 then also offers TLSv1 and TLSv1.1)`);
  else {
    const old = protocols.args.filter((p) => !MODERN.includes(p));
    if (old.length > 0)
      out.push(
        `${label} offers ${old.join(", ")} (ssl_protocols ${protocols.args.join(" ")}); only TLSv1.2 and TLSv1.3`,
      );
  }
  // add_header is inherited only by scopes that set no add_header of their own.
  const header =
    hsts(server.children) ??
    (directives(server.children, "add_header").length === 0 ? hsts(http) : undefined);
  if (!header) out.push(`${label} sends no Strict-Transport-Security header`);
  else {
    const age = maxAge(header);
    if (age === undefined || age < minAge)
      out.push(
        `${label} sends Strict-Transport-Security with max-age ${age ?? "missing"}; at least ${minAge}`,
      );
    for (const location of locations(server)) {
      if (directives(location.children, "add_header").length > 0 && !hsts(location.children))
        out.push(
          `${label} ${locationLabel(location)} sets its own add_header without Strict-Transport-Security, which drops HSTS there`,
        );
    }
  }
  return out;
}

function plainServerProblems(server: Directive): string[] {
  const proxied = [server, ...locations(server)].filter((scope) =>
    PASSES.some((pass) => directives(scope.children, pass).length > 0),
  );
  return proxied.map(
    (scope) =>
      `${serverLabel(server)} serves ${scope === server ? "requests" : locationLabel(scope)} over plain HTTP (${PASSES.find((p) => directives(scope.children, p).length > 0)}); redirect to HTTPS instead`,
  );
}

function configProblems(config: NginxConfig, minAge: number): string[] {
  const all = servers(config);
  const tls = all.filter(listensWithTls);
  if (tls.length === 0) return ["no server listens with TLS (listen ... ssl)"];
  const http = httpScope(config);
  return [
    ...tls.flatMap((server) => tlsServerProblems(server, http, minAge)),
    ...all.filter((s) => !listensWithTls(s)).flatMap(plainServerProblems),
  ];
}

/** Gateway API: HTTPS listeners with certificates; HSTS from an HTTPRoute response header filter. */
function gatewayProblems(subjects: Subject[]): StackFinding[] {
  const findings: StackFinding[] = [];
  for (const gateway of subjects.filter((s) => isKind(s, "Gateway"))) {
    const listeners = dicts(at(gateway.props, "spec", "listeners"));
    const tls = listeners.filter(
      (l) =>
        (l.protocol === "HTTPS" || l.protocol === "TLS") && list(at(l, "tls", "certificateRefs")).length > 0,
    );
    if (tls.length === 0)
      findings.push({
        subject: gateway,
        message: `Gateway ${JSON.stringify(objectName(gateway))} has no HTTPS listener with a certificate`,
      });
  }
  const routes = subjects.filter((s) => isKind(s, "HTTPRoute"));
  const setsHsts = routes.some((route) =>
    dicts(at(route.props, "spec", "rules")).some((rule) =>
      dicts(rule.filters).some((f) =>
        [
          ...dicts(at(f, "responseHeaderModifier", "set")),
          ...dicts(at(f, "responseHeaderModifier", "add")),
        ].some((h) => str(h.name)?.toLowerCase() === "strict-transport-security"),
      ),
    ),
  );
  if (findings.length === 0 && routes.length > 0 && !setsHsts)
    findings.push({
      subject: routes[0]!,
      message: "no HTTPRoute adds a Strict-Transport-Security response header",
    });
  return findings;
}

export const lbTls: StackRule<Config> = {
  kind: "stack",
  name: "lb-tls",
  description:
    "The load balancer terminates TLS with TLS 1.2/1.3 only, sends HSTS (max-age at least a year in production) and serves nothing over plain HTTP but a redirect. Checked in the rendered nginx config (Kubernetes ConfigMap, Docker nginx files); a Gateway needs an HTTPS listener and an HSTS header filter (its TLS versions are the implementation's); an Ingress needs spec.tls.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    'Render nginx with ssl_protocols TLSv1.2 TLSv1.3, `add_header Strict-Transport-Security "max-age=63072000" always` in the TLS server (chatapi:nginx.hstsMaxAgeSeconds) and only `return 301 https://...` on port 80.',
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      minHstsMaxAgeSeconds: {
        type: "integer",
        minimum: 0,
        default: 300,
        description: "Smallest HSTS max-age outside production.",
      },
      minHstsMaxAgeSecondsProduction: {
        type: "integer",
        minimum: 0,
        default: 31536000,
        description: "Smallest HSTS max-age in production (a year, as browsers' preload lists require).",
      },
      environment: environmentProperty,
    },
    defaults: { minHstsMaxAgeSeconds: 300, minHstsMaxAgeSecondsProduction: 31536000, environment: "auto" },
  },
  validate(subjects, config) {
    const minAge = isProduction(subjects, config.environment)
      ? config.minHstsMaxAgeSecondsProduction
      : config.minHstsMaxAgeSeconds;
    const configs = nginxConfigs(subjects);
    const findings: StackFinding[] = configs.flatMap((c) =>
      configProblems(c, minAge).map((problem) => ({
        subject: c.subject,
        message: `nginx config (${c.source}): ${problem}`,
      })),
    );
    findings.push(...gatewayProblems(subjects));
    const ingressWithTls = subjects.some(
      (s) => isKind(s, "Ingress") && list(at(s.props, "spec", "tls")).length > 0,
    );
    const hasWorkloads = kubernetesWorkloads(subjects).length > 0 || dockerWorkloads(subjects).length > 0;
    const hasGateway = subjects.some((s) => isKind(s, "Gateway"));
    if (configs.length === 0 && !hasGateway && !ingressWithTls && hasWorkloads)
      findings.push({
        message: "no TLS-terminating load balancer found (no nginx config, Gateway or Ingress with tls)",
      });
    return findings;
  },
};
