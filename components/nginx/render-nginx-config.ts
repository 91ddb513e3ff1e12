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
import type { LoadBalancerPlan, UpstreamServerPlan } from "../plan/types";
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

/**
 * Per client address, in nginx before any instance sees the request (the app's own limits count
 * per principal and per instance). Generous: an office NAT is one address for many people.
 */
export const EDGE_LIMITS = {
  /** REST requests per second, with this burst served at once. */
  apiRatePerSecond: 100,
  apiBurst: 200,
  /** WebSocket upgrades per second (reconnect storms), with this burst. */
  wsRatePerSecond: 20,
  wsBurst: 100,
  /** Open connections (and HTTP/2 streams) at once. */
  connections: 1000,
} as const;

/** Addresses that may read /health/ready through the load balancer (operators, probes, smoke). */
export const PRIVATE_NETWORKS = [
  "127.0.0.0/8",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "::1",
  "fc00::/7",
];

function version(text: string): [number, number] {
  const [major, minor] = text.split(".").map(Number);
  return [major ?? 1, minor ?? 0];
}

const atLeast = (v: [number, number], major: number, minor: number) =>
  v[0] > major || (v[0] === major && v[1] >= minor);

// X-Forwarded-For is set, not appended to: this nginx is the edge, so whatever a client wrote
// there is its own invention. The app believes exactly one private hop (TRUSTED_PROXY_HOPS=1):
// the address below. Behind another proxy, trustedProxies makes $remote_addr the real client.
const proxyHeaders = [
  "proxy_set_header Host $host;",
  "proxy_set_header X-Real-IP $remote_addr;",
  "proxy_set_header X-Forwarded-For $remote_addr;",
  "proxy_set_header X-Forwarded-Proto $scheme;",
];

const indent = (lines: string[], depth: number) =>
  lines.map((line) => (line ? `${"    ".repeat(depth)}${line}` : ""));

/** A health endpoint passed to the instances (rate-limited, not logged), after `access` rules. */
function healthLocation(path: string, access: string[]): string[] {
  return [
    `location = ${path} {`,
    ...indent(
      [
        ...access,
        `limit_req zone=chatapi_api burst=${EDGE_LIMITS.apiBurst} nodelay;`,
        "proxy_pass http://chatapi_backend;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        ...proxyHeaders,
        "access_log off;",
      ],
      1,
    ),
    "}",
  ];
}

/**
 * stub_status for the nginx exporter (monitoring on): its own listener, never published, that
 * answers nothing else; the public servers keep answering 404 for anything unknown.
 */
function statusServer(lb: LoadBalancerPlan, at: (port: number) => string): string[] {
  if (!lb.status) return [];
  return [
    "# Connection counts for the nginx exporter (an unpublished port on the internal network).",
    "server {",
    ...indent(
      [
        `listen ${at(lb.status.port)};`,
        "server_name _;",
        "access_log off;",
        `location = ${lb.status.path} {`,
        "    stub_status;",
        "}",
        "location / {",
        "    return 404;",
        "}",
      ],
      1,
    ),
    "}",
    "",
  ];
}

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
  return lb.upstream.kind === "dns" ? "hash $remote_addr;" : "hash $remote_addr consistent;";
}

const serverLine = (server: UpstreamServerPlan) =>
  `server ${server.host}:${server.port} max_fails=3 fail_timeout=10s;`;

/**
 * The file a release switch writes (upstream kind "release"): the `server` lines of the live
 * release's API instances, included by both upstream blocks. Names only: nginx resolves them
 * when it loads the file (`nginx -t` first, then a graceful reload).
 */
export function renderReleaseServers(release: string, servers: UpstreamServerPlan[]): string {
  if (servers.length === 0) throw new Error(`release ${release} has no API instance to send traffic to`);
  return [
    `# Release ${release}: written by the release switch; nginx includes it.`,
    ...servers.map(serverLine),
    "",
  ].join("\n");
}

function upstreamBlock(lb: LoadBalancerPlan, name: string, balancing: string[], resolve: boolean): string[] {
  const lines = [...balancing];
  if (lb.upstream.kind === "static") {
    for (const server of lb.upstream.servers) lines.push(serverLine(server));
  } else if (lb.upstream.kind === "release") {
    lines.push(`include ${lb.upstream.file};`);
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
    `keepalive_timeout ${lb.keepaliveTimeoutSeconds}s;`,
    `client_max_body_size ${lb.clientMaxBodySize};`,
    "# An instance that is gone fails fast, and the request moves on to the next one.",
    "proxy_connect_timeout 5s;",
    "",
    "# One JSON object per request on stdout (the container runtime rotates it). The request is",
    "# logged without its query string: /ws carries the access token there (?token=), and anyone",
    "# who reads logs could replay it.",
    "map $request_uri $chatapi_request_path {",
    '    "~^(?<chatapi_path>[^?]*)" $chatapi_path;',
    "}",
    'log_format chatapi_json escape=json \'{"time":"$time_iso8601","remote_addr":"$remote_addr",\'',
    '    \'"request":"$request_method $chatapi_request_path $server_protocol","status":$status,"bytes_sent":$body_bytes_sent,\'',
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
  const limits = EDGE_LIMITS;
  http.push(
    "",
    "# Per client address, before any instance sees the request (see EDGE_LIMITS).",
    `limit_req_zone $binary_remote_addr zone=chatapi_api:10m rate=${limits.apiRatePerSecond}r/s;`,
    `limit_req_zone $binary_remote_addr zone=chatapi_ws:10m rate=${limits.wsRatePerSecond}r/s;`,
    "limit_conn_zone $binary_remote_addr zone=chatapi_conn:10m;",
    "limit_req_status 429;",
    "limit_conn_status 429;",
  );
  http.push(
    "",
    "# The certificate and key are read at each TLS handshake (their paths hold a variable), so a",
    "# renewed certificate is served as soon as its files change: no reload, no connection cut.",
    `map $ssl_server_name $chatapi_tls_certificate { default ${lb.paths.certificate}; }`,
    `map $ssl_server_name $chatapi_tls_private_key { default ${lb.paths.privateKey}; }`,
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
        ...(lb.acmeWebroot
          ? [
              "",
              "# ACME HTTP-01 challenges: certbot writes the tokens here; everything else still redirects.",
              "location ^~ /.well-known/acme-challenge/ {",
              `    root ${lb.acmeWebroot};`,
              "    default_type text/plain;",
              "}",
            ]
          : []),
        "",
        "location / {",
        `    return 301 https://${lb.domain}${redirectPort}$request_uri;`,
        "}",
      ],
      1,
    ),
    "}",
    "",
    ...statusServer(lb, at),
    "server {",
    ...indent(
      [
        http2On
          ? `listen ${at(lb.listen.https)} ssl default_server;`
          : `listen ${at(lb.listen.https)} ssl http2 default_server;`,
        ...(http2On ? ["http2 on;"] : []),
        `server_name ${lb.domain};`,
        "",
        "ssl_certificate $chatapi_tls_certificate;",
        "ssl_certificate_key $chatapi_tls_private_key;",
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
        `limit_conn chatapi_conn ${limits.connections};`,
        "",
        `location ${lb.apiPrefix}/ {`,
        `    limit_req zone=chatapi_api burst=${limits.apiBurst} nodelay;`,
        "    proxy_pass http://chatapi_backend;",
        "    proxy_http_version 1.1;",
        '    proxy_set_header Connection "";',
        ...indent(proxyHeaders, 1),
        "}",
        "",
        "location = /ws {",
        `    limit_req zone=chatapi_ws burst=${limits.wsBurst} nodelay;`,
        "    proxy_pass http://chatapi_websocket;",
        "    proxy_http_version 1.1;",
        "    proxy_set_header Upgrade $http_upgrade;",
        "    proxy_set_header Connection $connection_upgrade;",
        ...indent(proxyHeaders, 1),
        `    proxy_read_timeout ${lb.wsReadTimeoutSeconds}s;`,
        `    proxy_send_timeout ${lb.wsReadTimeoutSeconds}s;`,
        "    proxy_buffering off;",
        "    # nginx's error messages quote the whole request line, token included; the access log",
        "    # still records every failure (status, upstream) without it.",
        "    error_log stderr crit;",
        "}",
        "",
        ...(lb.webConsole
          ? [
              "# The app's web console and API reference (local stacks only).",
              ...backendLocation("~ ^/(console/.*)?$"),
              "",
            ]
          : []),
        "# Liveness for anyone; readiness (which probes every dependency) for private networks.",
        ...healthLocation("/health", []),
        "",
        ...healthLocation("/health/ready", [
          ...PRIVATE_NETWORKS.map((cidr) => `allow ${cidr};`),
          "deny all;",
        ]),
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
