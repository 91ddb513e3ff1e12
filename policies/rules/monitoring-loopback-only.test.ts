import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { kubernetesObject } from "../test/kubernetes-fixtures";
import { monitoringLoopbackOnly as rule } from "./monitoring-loopback-only";

const on = (ip: string) => [{ internal: 9090, external: 9090, ip, protocol: "tcp" }];

describe(rule.name, () => {
  it("passes Prometheus on the host's loopback, exporters without published ports, other containers", () => {
    expect(check(rule, container("prometheus", { ports: on("127.0.0.1") }))).toEqual([]);
    expect(check(rule, container("prometheus", { ports: on("::1") }))).toEqual([]);
    expect(check(rule, container("postgres-exporter"))).toEqual([]);
    const alertmanagerOn = (ip: string) => [{ internal: 9093, external: 9093, ip, protocol: "tcp" }];
    expect(check(rule, container("alertmanager", { ports: alertmanagerOn("127.0.0.1") }))).toEqual([]);
    expect(check(rule, container("alertmanager", { ports: alertmanagerOn("0.0.0.0") }))).toEqual([
      "the alertmanager container publishes port 9093 on 0.0.0.0:9093, not on the host's loopback",
    ]);
    expect(check(rule, container("nginx", { ports: on("0.0.0.0") }))).toEqual([]);
  });

  it("fails Prometheus or an exporter published on every address, by role or by image", () => {
    expect(check(rule, container("prometheus", { ports: on("0.0.0.0") }))).toEqual([
      "the prometheus container publishes port 9090 on 0.0.0.0:9090, not on the host's loopback",
    ]);
    expect(check(rule, container("node-exporter", { publishAllPorts: true }))).toEqual([
      "the node-exporter container publishes all its ports (publishAllPorts: true) on every address",
    ]);
    const unlabelled = container("x", {
      labels: [],
      image: "prom/alertmanager:v0.27.0",
      ports: on("10.0.0.5"),
    });
    expect(check(rule, unlabelled)).toEqual([
      "the monitoring container publishes port 9090 on 10.0.0.5:9090, not on the host's loopback",
    ]);
  });

  it("fails a monitoring Service reachable from outside the cluster", () => {
    const pushgateway = changed(kubernetesObject("Service", "chatapi-prod-api"), (p) => {
      p.spec.selector["app.kubernetes.io/component"] = "pushgateway";
    });
    expect(check(rule, pushgateway)).toEqual([]);
    const exposed = changed(pushgateway, (p) => {
      p.spec.type = "LoadBalancer";
    });
    expect(check(rule, exposed)).toEqual([
      "the LoadBalancer Service exposes pushgateway outside the cluster",
    ]);
    // The load balancer's own Service is not a monitoring one.
    expect(check(rule, kubernetesObject("Service", "chatapi-prod-nginx"))).toEqual([]);
  });
});
