import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { noHostPorts as rule } from "./no-host-ports";

const published = [{ internal: 8443, external: 443, ip: "0.0.0.0", protocol: "tcp" }];

describe(rule.name, () => {
  it("passes pods without hostPort and a Docker nginx that publishes its ports", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, container("nginx", { ports: published }))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails a hostPort", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].ports[0].hostPort = 8000;
    });
    expect(check(rule, bad)).toEqual(['container "api" binds host port 8000 (hostPort)']);
  });

  it("fails a Docker container other than nginx that publishes ports", () => {
    expect(check(rule, container("api", { ports: [{ internal: 8000, external: 8000 }] }))).toEqual([
      "the container (role api) publishes port 8000 on the host; only the load balancer may",
    ]);
    expect(check(rule, container("worker", { publishAllPorts: true }))).toEqual([
      "the container (role worker) publishes all its ports (publishAllPorts: true)",
    ]);
  });

  it("lets Prometheus publish on the host's loopback only", () => {
    const prometheus = (ip: string) =>
      container("prometheus", { ports: [{ internal: 9090, external: 9090, ip }] });
    expect(check(rule, prometheus("127.0.0.1"))).toEqual([]);
    const alertmanager = container("alertmanager", {
      ports: [{ internal: 9093, external: 9093, ip: "127.0.0.1" }],
    });
    expect(check(rule, alertmanager)).toEqual([]);
    expect(check(rule, prometheus("0.0.0.0"))).toEqual([
      "the container (role prometheus) publishes port 9090 on the host; only the load balancer may",
    ]);
  });
});
