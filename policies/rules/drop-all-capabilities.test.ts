import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { dropAllCapabilities as rule } from "./drop-all-capabilities";

describe(rule.name, () => {
  it("passes containers that drop ALL", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails a container that keeps the default capabilities or adds one back", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].securityContext.capabilities = {
        drop: ["NET_RAW"],
        add: ["CAP_SYS_ADMIN"],
      };
    });
    expect(check(rule, bad)).toEqual([
      'container "api" does not drop ALL capabilities',
      'container "api" adds SYS_ADMIN (allowed: none)',
    ]);
  });

  it("accepts capabilities listed in allowedCapabilities", () => {
    const nginx = container("nginx", { capabilities: { drops: ["ALL"], adds: ["NET_BIND_SERVICE"] } });
    expect(check(rule, nginx)).toEqual(["the container adds NET_BIND_SERVICE (allowed: none)"]);
    expect(check(rule, nginx, { allowedCapabilities: ["CAP_NET_BIND_SERVICE"] })).toEqual([]);
  });

  it("fails a Docker container that drops nothing", () => {
    expect(check(rule, container("worker", { capabilities: undefined }))).toEqual([
      "the container does not drop ALL capabilities",
    ]);
  });
});
