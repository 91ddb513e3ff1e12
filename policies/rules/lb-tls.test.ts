import { describe, expect, it } from "vitest";
import type { Subject } from "../core/types";
import { checkStack, editNamed } from "../test/check";
import { container, filesContainer } from "../test/docker-fixtures";
import { kubernetesSubjects, nginxConf } from "../test/kubernetes-fixtures";
import { lbTls as rule } from "./lb-tls";

const CONFIG_MAP = "chatapi-prod-nginx";
/** The Kubernetes stack with its nginx.conf edited. */
const withConf = (edit: (conf: string) => string): Subject[] =>
  editNamed(kubernetesSubjects(), CONFIG_MAP, (p) => {
    if (p.kind === "ConfigMap") p.data["nginx.conf"] = edit(p.data["nginx.conf"]);
  });
const where = 'chatapi-prod-nginx: nginx config (data key "nginx.conf"):';
const server = "server chat.example.com (listen 8443)";

describe(rule.name, () => {
  it("passes the rendered nginx config in a ConfigMap and in the Docker nginx files", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
    const local = nginxConf.replace("max-age=63072000", "max-age=300");
    expect(
      checkStack(rule, [
        container("nginx"),
        filesContainer("nginx", [{ file: "/etc/nginx/chatapi/nginx.conf", content: local }]),
      ]),
    ).toEqual([]);
  });

  it("fails TLS 1.0/1.1 and a config that leaves ssl_protocols to nginx's default", () => {
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;")),
      ),
    ).toEqual([
      `${where} ${server} offers TLSv1, TLSv1.1 (ssl_protocols TLSv1 TLSv1.1 TLSv1.2); only TLSv1.2 and TLSv1.3`,
    ]);
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("ssl_protocols TLSv1.2 TLSv1.3;", "")),
      ),
    ).toEqual([
      `${where} ${server} sets no ssl_protocols (nginx before 1.23.4 then also offers TLSv1 and TLSv1.1)`,
    ]);
  });

  it("fails missing HSTS, a short max-age in production and a location that drops it", () => {
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace(/add_header Strict-Transport-Security[^\n]*\n/, "")),
      ),
    ).toEqual([`${where} ${server} sends no Strict-Transport-Security header`]);
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("max-age=63072000", "max-age=300")),
      ),
    ).toEqual([`${where} ${server} sends Strict-Transport-Security with max-age 300; at least 31536000`]);
    const dropped = withConf((c) =>
      c.replace("location = /ws {", 'location = /ws {\n            add_header X-Frame-Options "DENY";'),
    );
    expect(checkStack(rule, dropped)).toEqual([
      `${where} ${server} location = /ws sets its own add_header without Strict-Transport-Security, which drops HSTS there`,
    ]);
  });

  it("fails proxying over plain HTTP and a config with no TLS server", () => {
    const plain = withConf((c) =>
      c.replace("return 301 https://chat.example.com$request_uri;", "proxy_pass http://chatapi_backend;"),
    );
    expect(checkStack(rule, plain)).toEqual([
      `${where} server _ (listen 8080) serves location / over plain HTTP (proxy_pass); redirect to HTTPS instead`,
    ]);
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("listen 8443 ssl default_server;", "listen 8443 default_server;")),
      ),
    ).toContain(`${where} no server listens with TLS (listen ... ssl)`);
  });

  it("fails a stack with workloads but no TLS-terminating load balancer", () => {
    expect(checkStack(rule, [container("api")])).toEqual([
      "(stack): no TLS-terminating load balancer found (no nginx config, Gateway or Ingress with tls)",
    ]);
  });

  it("checks a Gateway's HTTPS listener and the HSTS header of its routes", () => {
    const gateway = (listener: Record<string, unknown>): Subject => ({
      type: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
      name: "chatapi",
      props: { metadata: { name: "chatapi" }, spec: { gatewayClassName: "eg", listeners: [listener] } },
    });
    const route = (filters: unknown[]): Subject => ({
      type: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
      name: "chatapi",
      props: { metadata: { name: "chatapi" }, spec: { rules: [{ filters }] } },
    });
    const hsts = [
      {
        type: "ResponseHeaderModifier",
        responseHeaderModifier: { set: [{ name: "Strict-Transport-Security", value: "max-age=63072000" }] },
      },
    ];
    const https = {
      name: "https",
      protocol: "HTTPS",
      port: 443,
      tls: { certificateRefs: [{ name: "chatapi-tls" }] },
    };
    expect(checkStack(rule, [container("api"), gateway(https), route(hsts)])).toEqual([]);
    expect(checkStack(rule, [gateway({ name: "http", protocol: "HTTP", port: 80 }), route(hsts)])).toEqual([
      'chatapi: Gateway "chatapi" has no HTTPS listener with a certificate',
    ]);
    expect(checkStack(rule, [gateway(https), route([])])).toEqual([
      "chatapi: no HTTPRoute adds a Strict-Transport-Security response header",
    ]);
  });
});
