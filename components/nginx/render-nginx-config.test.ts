// The nginx renderer on its own: the directives that carry the guide's requirements, and the
// syntax that depends on the nginx version in the image.
import { describe, expect, it } from "vitest";
import type { LoadBalancerPlan } from "../plan/types";
import { MOZILLA_INTERMEDIATE } from "./mozilla-tls";
import { renderNginxConfig } from "./render-nginx-config";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { repoRoot } from "../../test/support/paths";

const lb: LoadBalancerPlan = {
  domain: "chat.example.com",
  listen: { http: 8080, https: 8443 },
  public: { http: 80, https: 443, address: "0.0.0.0" },
  upstream: { kind: "static", servers: [1, 2, 3].map((n) => ({ host: `api-${n}`, port: 8000 })) },
  apiPrefix: "/api/v1",
  wsReadTimeoutSeconds: 86400,
  keepaliveTimeoutSeconds: 65,
  clientMaxBodySize: "1m",
  hstsMaxAgeSeconds: 63072000,
  trustedProxies: [],
  nginxVersion: "1.22",
  paths: {
    certificate: "/run/secrets/tls_certificate",
    privateKey: "/run/secrets/tls_private_key",
    dhParams: "/etc/nginx/chatapi/dhparam.pem",
    pidFile: "/tmp/nginx.pid",
    tempDir: "/tmp",
  },
};

/** The lines of one block, e.g. block(conf, "location = /ws"). */
function block(conf: string, opening: string): string[] {
  const lines = conf.split("\n");
  const start = lines.findIndex((line) => line.trim() === `${opening} {`);
  expect(start, `no block ${opening}`).toBeGreaterThanOrEqual(0);
  const indent = lines[start]!.search(/\S/);
  const end = lines.findIndex((line, i) => i > start && line.search(/\S/) === indent && line.trim() === "}");
  return lines.slice(start + 1, end).map((line) => line.trim());
}

describe("renderNginxConfig", () => {
  const conf = renderNginxConfig(lb);

  it("makes the WebSocket upstream sticky by client address and the REST one round-robin", () => {
    expect(block(conf, "upstream chatapi_websocket")).toEqual([
      "hash $remote_addr consistent;",
      "server api-1:8000 max_fails=3 fail_timeout=10s;",
      "server api-2:8000 max_fails=3 fail_timeout=10s;",
      "server api-3:8000 max_fails=3 fail_timeout=10s;",
    ]);
    const rest = block(conf, "upstream chatapi_backend");
    expect(rest).toContain("keepalive 32;");
    expect(rest.some((line) => /hash|ip_hash|least_conn/.test(line))).toBe(false);
  });

  it("proxies /ws with the upgrade headers, the guide's headers and a long read timeout", () => {
    expect(block(conf, "location = /ws")).toEqual(
      expect.arrayContaining([
        "proxy_pass http://chatapi_websocket;",
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_read_timeout 86400s;",
      ]),
    );
    expect(block(conf, "location /api/v1/")).toContain("proxy_pass http://chatapi_backend;");
    expect(block(conf, "location = /health")).toEqual(
      expect.arrayContaining(["proxy_pass http://chatapi_backend;", "access_log off;"]),
    );
  });

  it("sets X-Forwarded-For to the address it saw, never appending what the client sent", () => {
    expect(conf).not.toContain("$proxy_add_x_forwarded_for");
    const forwarded = conf.split("\n").filter((line) => line.includes("X-Forwarded-For"));
    expect(forwarded.length).toBeGreaterThanOrEqual(4); // API, /ws, /health, /health/ready
    for (const line of forwarded) expect(line.trim()).toBe("proxy_set_header X-Forwarded-For $remote_addr;");
  });

  it("logs requests without their query string, and keeps /ws errors (which quote it) out of the error log", () => {
    const format = conf.slice(conf.indexOf("log_format chatapi_json"), conf.indexOf("access_log"));
    expect(format).toContain('"request":"$request_method $chatapi_request_path $server_protocol"');
    expect(format).not.toMatch(/\$request[^_]|\$request_uri|\$args|\$query_string/);
    expect(block(conf, "map $request_uri $chatapi_request_path")).toEqual([
      '"~^(?<chatapi_path>[^?]*)" $chatapi_path;',
    ]);
    expect(block(conf, "location = /ws")).toContain("error_log stderr crit;");
  });

  it("limits requests, WebSocket upgrades and connections per client address", () => {
    expect(conf).toContain("limit_req_zone $binary_remote_addr zone=chatapi_api:10m rate=100r/s;");
    expect(conf).toContain("limit_req_zone $binary_remote_addr zone=chatapi_ws:10m rate=20r/s;");
    expect(conf).toContain("limit_req_status 429;");
    expect(block(conf, "location /api/v1/")).toContain("limit_req zone=chatapi_api burst=200 nodelay;");
    expect(block(conf, "location = /ws")).toContain("limit_req zone=chatapi_ws burst=100 nodelay;");
    expect(conf).toContain("limit_conn chatapi_conn 1000;");
  });

  it("serves /health to anyone but /health/ready only to private networks, and nothing else under /health", () => {
    const ready = block(conf, "location = /health/ready");
    expect(ready).toEqual(expect.arrayContaining(["allow 10.0.0.0/8;", "allow 127.0.0.0/8;", "deny all;"]));
    expect(ready.indexOf("deny all;")).toBeGreaterThan(ready.lastIndexOf("allow fc00::/7;"));
    expect(conf).not.toMatch(/location \/health \{/);
  });

  it("bounds how long old workers keep WebSockets after a reload", () => {
    const conf = renderNginxConfig(lb);
    const main = conf.split("\nhttp {")[0]!;
    expect(main).toContain("worker_shutdown_timeout 10s;");
  });

  it("redirects HTTP to HTTPS and speaks Mozilla intermediate TLS with HSTS", () => {
    expect(conf).toContain("return 301 https://chat.example.com$request_uri;");
    expect(conf).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
    expect(conf).toContain(`ssl_ciphers ${MOZILLA_INTERMEDIATE.ciphers.join(":")};`);
    expect(conf).toContain("ssl_prefer_server_ciphers off;");
    expect(conf).toContain("ssl_session_tickets off;");
    expect(conf).toContain('add_header Strict-Transport-Security "max-age=63072000" always;');
    // one HSTS header reaches clients: the upstream app's copy is hidden
    expect(conf).toContain("proxy_hide_header Strict-Transport-Security;");
    expect(renderNginxConfig({ ...lb, public: { ...lb.public, https: 8443 } })).toContain(
      "return 301 https://chat.example.com:8443$request_uri;",
    );
  });

  it("uses the http2 syntax of the nginx version in the image", () => {
    expect(conf).toContain("listen 8443 ssl http2 default_server;");
    const modern = renderNginxConfig({ ...lb, nginxVersion: "1.28" });
    expect(modern).toContain("listen 8443 ssl default_server;");
    expect(modern).toContain("http2 on;");
  });

  it("re-resolves a DNS upstream where nginx can (1.27.3+), and resolves it once where it cannot", () => {
    const dns = {
      ...lb,
      upstream: {
        kind: "dns" as const,
        name: "api.ns.svc.cluster.local",
        port: 8000,
        resolver: "kube-dns.kube-system.svc.cluster.local",
      },
    };
    const modern = renderNginxConfig({ ...dns, nginxVersion: "1.28" });
    expect(modern).toContain("resolver kube-dns.kube-system.svc.cluster.local valid=10s ipv6=off;");
    // Consistent hashing would share its points among every pod behind the one name: plain hash.
    expect(block(modern, "upstream chatapi_websocket")).toEqual([
      "hash $remote_addr;",
      "zone chatapi_websocket 64k;",
      "server api.ns.svc.cluster.local:8000 resolve max_fails=3 fail_timeout=10s;",
    ]);
    // One bound for workers retired by any reload (nginx refuses a duplicate directive).
    expect(modern.match(/worker_shutdown_timeout/g)).toHaveLength(1);
    const old = renderNginxConfig(dns);
    expect(old).not.toContain(" resolve ");
    expect(old).not.toContain("resolver ");
    expect(block(old, "upstream chatapi_websocket")).toEqual([
      "hash $remote_addr;",
      "server api.ns.svc.cluster.local:8000 max_fails=3 fail_timeout=10s;",
    ]);
    // Reloaded by the upstream watcher: retired workers do not keep WebSockets forever.
    expect(old.match(/worker_shutdown_timeout 10s;/g)).toHaveLength(1);
  });

  it("gives up on an unreachable instance after 5 s, so the request moves on to the next", () => {
    expect(block(conf, "http")).toContain("proxy_connect_timeout 5s;");
  });

  it("trusts X-Forwarded-For only from configured proxies", () => {
    expect(conf).not.toContain("set_real_ip_from");
    const behind = renderNginxConfig({ ...lb, trustedProxies: ["10.0.0.0/8"] });
    expect(behind).toContain("set_real_ip_from 10.0.0.0/8;");
    expect(behind).toContain("real_ip_header X-Forwarded-For;");
  });

  it("runs unprivileged: pid and temp files under /tmp, logs to stdout/stderr, no /metrics", () => {
    expect(conf).toContain("pid /tmp/nginx.pid;");
    expect(conf).toContain("client_body_temp_path /tmp/client_temp;");
    expect(conf).toContain("error_log stderr warn;");
    expect(conf).toContain("access_log /dev/stdout chatapi_json;");
    expect(conf).not.toMatch(/^\s*user /m);
    expect(conf).not.toContain("location /metrics");
  });
});

describe("chatapi:nginx.keepaliveTimeoutSeconds", () => {
  const keepalive = (set: string[]) =>
    renderNginxConfig(loadStackPlan({ root: repoRoot, stack: "local", set }).plan.loadBalancer)
      .split("\n")
      .filter((line) => line.trim().startsWith("keepalive_timeout"))
      .map((line) => line.trim());

  it("is nginx's keepalive_timeout for client connections: 65 s unless set, 0 turns keep-alive off", () => {
    expect(keepalive([])).toEqual(["keepalive_timeout 65s;"]);
    expect(keepalive(["nginx.keepaliveTimeoutSeconds=75"])).toEqual(["keepalive_timeout 75s;"]);
    expect(keepalive(["nginx.keepaliveTimeoutSeconds=0"])).toEqual(["keepalive_timeout 0s;"]);
  });

  it("refuses a value outside 0..3600, naming the key", () => {
    expect(() => keepalive(["nginx.keepaliveTimeoutSeconds=3601"])).toThrow(
      /chatapi:nginx\.keepaliveTimeoutSeconds.*3600/,
    );
    expect(() => keepalive(["nginx.keepaliveTimeoutSeconds=-1"])).toThrow(
      /chatapi:nginx\.keepaliveTimeoutSeconds/,
    );
  });
});
