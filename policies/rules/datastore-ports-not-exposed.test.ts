import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { kubernetesObject, statefulSet } from "../test/kubernetes-fixtures";
import { datastorePortsNotExposed as rule } from "./datastore-ports-not-exposed";

describe(rule.name, () => {
  it("passes unpublished stores, a headless store Service and the nginx LoadBalancer", () => {
    expect(check(rule, container("postgres"))).toEqual([]);
    expect(check(rule, kubernetesObject("Service", "chatapi-prod-postgres"))).toEqual([]);
    expect(check(rule, kubernetesObject("Service", "chatapi-prod-nginx"))).toEqual([]);
    expect(check(rule, statefulSet("postgres"))).toEqual([]);
  });

  it("fails a Docker data store publishing a port, and any container publishing a store's port", () => {
    const published = [{ internal: 5432, external: 5432, ip: "0.0.0.0", protocol: "tcp" }];
    expect(check(rule, container("postgres", { ports: published }))).toEqual([
      "the postgres container publishes port 5432 on 0.0.0.0:5432",
    ]);
    expect(check(rule, container("api", { ports: [{ internal: 15672, external: 15672 }] }))).toEqual([
      "the container publishes port 15672 (a rabbitmq port) on 0.0.0.0:15672",
    ]);
  });

  it("fails a LoadBalancer Service in front of a data store and a store's hostPort", () => {
    const service = changed(kubernetesObject("Service", "chatapi-prod-postgres"), (p) => {
      p.spec.type = "LoadBalancer";
      delete p.spec.clusterIP;
    });
    expect(check(rule, service)).toEqual(["the LoadBalancer Service exposes postgres outside the cluster"]);
    const other = changed(kubernetesObject("Service", "chatapi-prod-api"), (p) => {
      p.spec.type = "NodePort";
      p.spec.ports = [{ port: 6379, targetPort: 6379 }];
    });
    expect(check(rule, other)).toEqual(["the NodePort Service exposes port 6379→6379, a redis port"]);
    const hostPort = changed(statefulSet("redis"), (p) => {
      p.spec.template.spec.containers[0].ports[0].hostPort = 6379;
    });
    expect(check(rule, hostPort)).toEqual([
      'container "redis" (role redis) binds data-store port 6379 to host port 6379',
    ]);
  });
});
