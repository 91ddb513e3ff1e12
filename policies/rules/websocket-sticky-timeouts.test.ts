import { describe, expect, it } from "vitest";
import type { Subject } from "../core/types";
import { checkStack, editNamed } from "../test/check";
import { container, filesContainer } from "../test/docker-fixtures";
import { kubernetesSubjects, nginxConf } from "../test/kubernetes-fixtures";
import { websocketStickyTimeouts as rule } from "./websocket-sticky-timeouts";

const withConf = (edit: (conf: string) => string): Subject[] =>
  editNamed(kubernetesSubjects(), "chatapi-prod-nginx", (p) => {
    if (p.kind === "ConfigMap") p.data["nginx.conf"] = edit(p.data["nginx.conf"]);
  });
const where = 'chatapi-prod-nginx: nginx config (data key "nginx.conf"):';

describe(rule.name, () => {
  it("passes the rendered config (hash $remote_addr, HTTP/1.1 upgrade, 24 h read timeout)", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
    expect(
      checkStack(rule, [
        filesContainer("nginx", [{ file: "/etc/nginx/nginx.conf", content: nginxConf }]),
        container("api"),
      ]),
    ).toEqual([]);
  });

  it("fails a round-robin WebSocket upstream and a direct proxy_pass", () => {
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("hash $remote_addr;", "least_conn;")),
      ),
    ).toEqual([
      `${where} location = /ws proxies to upstream chatapi_websocket, which is not sticky (no hash, ip_hash or sticky): a reconnecting client may land elsewhere`,
    ]);
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("proxy_pass http://chatapi_websocket;", "proxy_pass http://api:8000;")),
      ),
    ).toEqual([
      `${where} location = /ws proxies to http://api:8000, not to an upstream with sticky balancing`,
    ]);
  });

  it("fails the default 60 s read timeout, a short one, and a missing upgrade", () => {
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("proxy_read_timeout 86400s;", "")),
      ),
    ).toEqual([
      `${where} location = /ws closes idle WebSockets after 60s (the default) (proxy_read_timeout); at least 3600s`,
    ]);
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("proxy_read_timeout 86400s;", "proxy_read_timeout 10m;")),
      ),
    ).toEqual([
      `${where} location = /ws closes idle WebSockets after 10m (proxy_read_timeout); at least 3600s`,
    ]);
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("proxy_read_timeout 86400s;", "proxy_read_timeout 2h;")),
      ),
    ).toEqual([]);
    const noUpgrade = withConf((c) =>
      c
        .replace(
          "proxy_pass http://chatapi_websocket;\n            proxy_http_version 1.1;",
          "proxy_pass http://chatapi_websocket;",
        )
        .replace("proxy_set_header Connection $connection_upgrade;", ""),
    );
    expect(checkStack(rule, noUpgrade)).toEqual([
      `${where} location = /ws does not proxy with HTTP/1.1 (proxy_http_version 1.1), so the upgrade cannot pass`,
      `${where} location = /ws does not forward Connection: upgrade`,
    ]);
  });

  it("fails a config without a WebSocket location, and a Gateway route to /ws without session persistence", () => {
    expect(
      checkStack(
        rule,
        withConf((c) => c.replace("proxy_set_header Upgrade $http_upgrade;", "")),
      ),
    ).toEqual([`${where} no location proxies WebSocket upgrades (proxy_set_header Upgrade $http_upgrade)`]);
    const route = (rule: Record<string, unknown>): Subject => ({
      type: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
      name: "chatapi",
      props: {
        metadata: { name: "chatapi" },
        spec: { rules: [{ matches: [{ path: { type: "Exact", value: "/ws" } }], ...rule }] },
      },
    });
    expect(checkStack(rule, [route({})])).toEqual([
      'chatapi: HTTPRoute "chatapi" serves /ws without sessionPersistence (not sticky)',
    ]);
    expect(checkStack(rule, [route({ sessionPersistence: { type: "Cookie", sessionName: "ws" } })])).toEqual(
      [],
    );
  });
});
