// The load balancer's nginx.conf, rendered from the plan (pure; used by both targets).
//
// Stickiness: /ws hashes the client address: each address always reaches the same API instance.
// With one `server` line per instance (Docker) it is `hash $remote_addr consistent`: when
// instances come or go only ~1/N of clients move. A DNS upstream (Kubernetes: one line naming the
// headless Service) uses plain `hash $remote_addr`: consistent hashing places its points per
// server *name*, so every pod behind one name shares them and nginx would round-robin (seen on a
// real cluster and in real nginx); plain hashing picks among the resolved peers. Not `ip_hash`:
// it hashes only the first three octets of an IPv4 address, so a whole /24 (an office NAT, a
// mobile carrier) lands on one instance. Not a cookie: WebSocket clients outside browsers
// rarely keep cookies, and open-source nginx has no `sticky cookie`. Behind another proxy set
// trustedProxies so $remote_addr is the real client (realip module). REST under the API
// prefix is spread round-robin over the same instances (with keep-alive connections).
import type { LoadBalancerPlan } from "../plan/types";
import { MOZILLA_INTERMEDIATE } from "./mozilla-tls";
import { nginxResolvesUpstreams } from "./upstream-watcher";

export interface NginxRenderOptions {
  /** Address to listen on (tests bind loopback); all interfaces when unset. */
  listenAddress?: string;
  /** Where the access log goes (default stdout). */
  accessLog?: string;
}

/** How long old workers may keep connections after a reload (see the main context below). */
export const WORKER_SHUTDOWN_TIMEOUT_SECONDS = 10;

function version(text: string): [number, number] {
  const [major, minor] = text.split(".").map(Number);
  return [major ?? 1, minor ?? 0];
}

const atLeast = (v: [number, number], major: number, minor: number) =>
  v[0] > major || (v[0] === major && v[1] >= minor);

const proxyHeaders = [
  "proxy_set_header Host $host;",
  "proxy_set_header X-Real-IP $remote_addr;",
  "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
  "proxy_set_header X-Forwarded-Proto $scheme;",
];

const indent = (lines: string[], depth: number) =>
  lines.map((line) => (line ? `${"    ".repeat(depth)}${line}` : ""));

/** A location proxied to the API instances over kept-alive HTTP/1.1 connections. */
function backendLocation(match: string, extra: string[] = []): string[] {
  const lines = [
    "proxy_pass http://chatapi_backend;",
    "proxy_http_version 1.1;",
    'proxy_set_header Connection "";',
  ];
  return [`location ${match} {`, ...indent([...lines, ...proxyHeaders, ...extra], 1), "}"];
}

/** The /ws balancing line (see the top of this file for why it depends on the upstream kind). */
function stickyHash(lb: LoadBalancerPlan): string {
  return lb.upstream.kind === "static" ? "hash $remote_addr consistent;" : "hash $remote_addr;";
}

function upstreamBlock(lb: LoadBalancerPlan, name: string, balancing: string[], resolve: boolean): string[] {
  const lines = [...balancing];
  if (lb.upstream.kind === "static") {
    for (const server of lb.upstream.servers) {
      lines.push(`server ${server.host}:${server.port} max_fails=3 fail_timeout=10s;`);
    }
  } else if (resolve) {
    // Re-resolved while running (nginx >= 1.27.3): instances that come and go are followed.
    lines.push(
      `zone ${name} 64k;`,
      `server ${lb.upstream.name}:${lb.upstream.port} resolve max_fails=3 fail_timeout=10s;`,
    );
  } else {
    // This nginx resolves the name when it loads its configuration; the upstream watcher
    // (./upstream-watcher.ts) reloads it when the addresses change.
    lines.push(`server ${lb.upstream.name}:${lb.upstream.port} max_fails=3 fail_timeout=10s;`);
  }
  return [`upstream ${name} {`, ...indent(lines, 1), "}"];
}

export function renderNginxConfig(lb: LoadBalancerPlan, options: NginxRenderOptions = {}): string {
  const v = version(lb.nginxVersion);
  const http2On = atLeast(v, 1, 25); // `listen ... http2` is deprecated from 1.25.1
  const resolve = lb.upstream.kind === "dns" && nginxResolvesUpstreams(lb);
  const at = (port: number) => (options.listenAddress ? `${options.listenAddress}:${port}` : String(port));
  const tls = MOZILLA_INTERMEDIATE;
  const redirectPort = lb.public.https === 443 ? "" : `:${lb.public.https}`;
  const temp = lb.paths.tempDir;

  const http: string[] = [
    "server_tokens off;",
    `client_body_temp_path ${temp}/client_temp;`,
    `proxy_temp_path ${temp}/proxy_temp;`,
    `fastcgi_temp_path ${temp}/fastcgi_temp;`,
    `uwsgi_temp_path ${temp}/uwsgi_temp;`,
    `scgi_temp_path ${temp}/scgi_temp;`,
    "default_type application/octet-stream;",
    "sendfile on;",
    "keepalive_timeout 65s;",
    `client_max_body_size ${lb.clientMaxBodySize};`,
    "# An instance that is gone fails fast, and the request moves on to the next one.",
    "proxy_connect_timeout 5s;",
    "",
    "# One JSON object per request on stdout (the container runtime rotates it).",
    'log_format chatapi_json escape=json \'{"time":"$time_iso8601","remote_addr":"$remote_addr",\'',
    '    \'"request":"$request","status":$status,"bytes_sent":$body_bytes_sent,\'',
    '    \'"request_time":$request_time,"upstream":"$upstream_addr",\'',
    '    \'"upstream_time":"$upstream_response_time","user_agent":"$http_user_agent"}\';',
    `access_log ${options.accessLog ?? "/dev/stdout"} chatapi_json;`,
  ];
  if (lb.trustedProxies.length > 0) {
    http.push("", "# The client address behind trusted proxies (used for sticky hashing and logs).");
    for (const cidr of lb.trustedProxies) http.push(`set_real_ip_from ${cidr};`);
    http.push("real_ip_header X-Forwarded-For;", "real_ip_recursive on;");
  }
  if (resolve && lb.upstream.kind === "dns") {
    http.push("", `resolver ${lb.upstream.resolver} valid=10s ipv6=off;`);
  }
  http.push(
    "",
    "map $http_upgrade $connection_upgrade {",
    "    default upgrade;",
    "    ''      close;",
    "}",
    "",
    "# REST: round-robin over every API instance, keep-alive connections to them.",
    ...upstreamBlock(lb, "chatapi_backend", ["keepalive 32;"], resolve),
    "",
    "# WebSocket: sticky by client address (see the top of render-nginx-config.ts for why).",
    ...upstreamBlock(lb, "chatapi_websocket", [stickyHash(lb)], resolve),
    "",
    "server {",
    ...indent(
      [
        `listen ${at(lb.listen.http)} default_server;`,
        "server_name _;",
        "",
        "# Container health check (loopback only).",
        "location = /nginx-health {",
        "    access_log off;",
        "    allow 127.0.0.1;",
        "    deny all;",
        "    default_type text/plain;",
        '    return 200 "ok\\n";',
        "}",
        "",
        "location / {",
        `    return 301 https://${lb.domain}${redirectPort}$request_uri;`,
        "}",
      ],
      1,
    ),
    "}",
    "",
    "server {",
    ...indent(
      [
        http2On
          ? `listen ${at(lb.listen.https)} ssl default_server;`
          : `listen ${at(lb.listen.https)} ssl http2 default_server;`,
        ...(http2On ? ["http2 on;"] : []),
        `server_name ${lb.domain};`,
        "",
        `ssl_certificate ${lb.paths.certificate};`,
        `ssl_certificate_key ${lb.paths.privateKey};`,
        `ssl_dhparam ${lb.paths.dhParams};`,
        `ssl_protocols ${tls.protocols.join(" ")};`,
        `ssl_ciphers ${tls.ciphers.join(":")};`,
        `ssl_prefer_server_ciphers ${tls.preferServerCiphers ? "on" : "off"};`,
        `ssl_session_timeout ${tls.sessionTimeout};`,
        `ssl_session_cache ${tls.sessionCache};`,
        `ssl_session_tickets ${tls.sessionTickets ? "on" : "off"};`,
        "",
        // The load balancer owns these headers: drop the app's copies so clients see one value.
        "proxy_hide_header Strict-Transport-Security;",
        "proxy_hide_header X-Content-Type-Options;",
        `add_header Strict-Transport-Security "max-age=${lb.hstsMaxAgeSeconds}" always;`,
        'add_header X-Content-Type-Options "nosniff" always;',
        "",
        ...backendLocation(`${lb.apiPrefix}/`),
        "",
        "location = /ws {",
        "    proxy_pass http://chatapi_websocket;",
        "    proxy_http_version 1.1;",
        "    proxy_set_header Upgrade $http_upgrade;",
        "    proxy_set_header Connection $connection_upgrade;",
        ...indent(proxyHeaders, 1),
        `    proxy_read_timeout ${lb.wsReadTimeoutSeconds}s;`,
        `    proxy_send_timeout ${lb.wsReadTimeoutSeconds}s;`,
        "    proxy_buffering off;",
        "}",
        "",
        ...(lb.webConsole
          ? [
              "# The app's web console and API reference (local stacks only).",
              ...backendLocation("~ ^/(console/.*)?$"),
              "",
            ]
          : []),
        ...backendLocation("/health", ["access_log off;"]),
        "",
        "# Nothing else is served (in particular not /metrics).",
        "location / {",
        "    default_type application/json;",
        '    return 404 \'{"error":{"code":"not_found","message":"Not found"}}\';',
        "}",
      ],
      1,
    ),
    "}",
  );

  return [
    "# Rendered by the chatapi toolkit from the deployment plan; edit the stack config, not this file.",
    "worker_processes auto;",
    // A reload starts new workers and lets the old ones finish their connections; a WebSocket
    // never finishes by itself (heartbeats keep it alive), so without a bound every reload leaves
    // old workers running for good (found by chaos/faults/nginx-reload.ts). After this long they
    // close what is left; clients reconnect (with backoff and jitter) and resume with after_seq.
    `worker_shutdown_timeout ${WORKER_SHUTDOWN_TIMEOUT_SECONDS}s;`,
    `pid ${lb.paths.pidFile};`,
    "error_log stderr warn;",
    "daemon off;",
    "",
    "events {",
    "    worker_connections 4096;",
    "}",
    "",
    "http {",
    ...indent(http, 1),
    "}",
    "",
  ].join("\n");
}
