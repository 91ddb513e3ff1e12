import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment, statefulSet } from "../test/kubernetes-fixtures";
import { resourceRequestsLimits as rule } from "./resource-requests-limits";

describe(rule.name, () => {
  it("passes containers with CPU and memory requests and limits, and Docker memory limits", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, statefulSet("postgres"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails missing limits and a request above its limit", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].resources = {
        requests: { cpu: "500m", memory: "8Gi" },
        limits: { memory: "4Gi" },
      };
    });
    expect(check(rule, bad)).toEqual([
      'container "api" sets no limits.cpu',
      'container "api" requests more memory (8Gi) than its limit (4Gi)',
    ]);
    const none = changed(deployment("worker"), (p) => {
      delete p.spec.template.spec.containers[0].resources;
    });
    expect(check(rule, none)).toEqual([
      'container "worker" sets no requests.cpu or limits.cpu',
      'container "worker" sets no requests.memory or limits.memory',
    ]);
  });

  it("fails a Docker container without a memory limit", () => {
    expect(check(rule, container("worker", { memory: undefined }))).toEqual([
      "the container has no memory limit (memory is unset)",
    ]);
  });
});
