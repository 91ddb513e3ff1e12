import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { seccompRuntimeDefault as rule } from "./seccomp-runtime-default";

describe(rule.name, () => {
  it("passes RuntimeDefault on the pod and Docker's default profile", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails no profile, and a container that overrides the pod's with Unconfined", () => {
    const unset = changed(deployment("api"), (p) => {
      delete p.spec.template.spec.securityContext.seccompProfile;
    });
    expect(check(rule, unset)).toEqual([
      'container "api" has seccomp profile unset (Unconfined unless the kubelet defaults it); it must be RuntimeDefault or Localhost',
    ]);
    const unconfined = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].securityContext.seccompProfile = { type: "Unconfined" };
    });
    expect(check(rule, unconfined)).toEqual([
      'container "api" has seccomp profile Unconfined; it must be RuntimeDefault or Localhost',
    ]);
  });

  it("fails seccomp=unconfined on Docker", () => {
    expect(
      check(rule, container("api", { securityOpts: ["no-new-privileges:true", "seccomp=unconfined"] })),
    ).toEqual(["the container runs without seccomp filtering (securityOpts: seccomp=unconfined)"]);
  });
});
