import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { noPrivilegeEscalation as rule } from "./no-privilege-escalation";

describe(rule.name, () => {
  it("passes allowPrivilegeEscalation false and no-new-privileges", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
    expect(check(rule, container("api", { securityOpts: ["no-new-privileges"] }))).toEqual([]);
  });

  it("fails a container that leaves allowPrivilegeEscalation unset or true", () => {
    const bad = changed(deployment("api"), (p) => {
      delete p.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation;
      p.spec.template.spec.initContainers = [
        { name: "init", image: "busybox:1.36", securityContext: { allowPrivilegeEscalation: true } },
      ];
    });
    expect(check(rule, bad)).toEqual([
      'container "api" may escalate privileges (securityContext.allowPrivilegeEscalation is "unset"; it must be false)',
      'init container "init" may escalate privileges (securityContext.allowPrivilegeEscalation is true; it must be false)',
    ]);
  });

  it("fails a Docker container without no-new-privileges", () => {
    expect(check(rule, container("api", { securityOpts: [] }))).toEqual([
      "the container may gain privileges (securityOpts lacks no-new-privileges:true)",
    ]);
  });
});
