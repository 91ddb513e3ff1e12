import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { noPrivilegedContainers as rule } from "./no-privileged-containers";

describe(rule.name, () => {
  it("passes hardened workloads", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails a privileged Kubernetes container, init containers included", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].securityContext.privileged = true;
      p.spec.template.spec.initContainers = [
        { name: "setup", image: "busybox:1.36", securityContext: { privileged: true } },
      ];
    });
    expect(check(rule, bad)).toEqual([
      'container "api" runs privileged (securityContext.privileged: true)',
      'init container "setup" runs privileged (securityContext.privileged: true)',
    ]);
  });

  it("fails a privileged Docker container, but not a never-started files container", () => {
    expect(check(rule, container("api", { privileged: true }))).toEqual([
      "the container runs privileged (privileged: true)",
    ]);
    expect(check(rule, container("api", { privileged: true, start: false }))).toEqual([]);
  });
});
