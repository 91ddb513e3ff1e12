import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment, statefulSet } from "../test/kubernetes-fixtures";
import { runAsNonRoot as rule } from "./run-as-non-root";

describe(rule.name, () => {
  it("passes pods with runAsNonRoot and Docker containers with a numeric non-root uid", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, statefulSet("postgres"))).toEqual([]);
    expect(check(rule, container("postgres"))).toEqual([]);
  });

  it("fails runAsUser 0 and a missing runAsNonRoot (container level overrides the pod)", () => {
    const root = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].securityContext.runAsUser = 0;
    });
    expect(check(rule, root)).toEqual(['container "api" runs as root (runAsUser: 0)']);
    const unset = changed(deployment("api"), (p) => {
      delete p.spec.template.spec.securityContext.runAsNonRoot;
    });
    expect(check(rule, unset)).toEqual([
      'container "api" may run as root (runAsNonRoot is not true at pod or container level)',
    ]);
  });

  it("fails Docker containers as root, with no user or a user name", () => {
    expect(check(rule, container("api", { user: "0:0" }))).toEqual([
      'the container runs as root (user "0:0")',
    ]);
    expect(check(rule, container("api", { user: undefined }))).toEqual([
      "the container runs as the image's default user (`user` is unset), which may be root",
    ]);
    expect(check(rule, container("api", { user: "chatapi" }))).toEqual([
      'the container\'s user "chatapi" is a name, not a numeric uid; its uid cannot be checked',
    ]);
  });
});
