import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment, statefulSet } from "../test/kubernetes-fixtures";
import { readOnlyRootFilesystemDatastores as rule } from "./read-only-root-filesystem-datastores";

describe(rule.name, () => {
  it("is advisory", () => expect(rule.enforcementLevel).toBe("advisory"));

  it("passes read-only data stores and ignores other roles", () => {
    expect(check(rule, statefulSet("redis"))).toEqual([]);
    expect(check(rule, container("postgres"))).toEqual([]);
    expect(check(rule, container("api", { readOnly: false }))).toEqual([]);
    expect(check(rule, deployment("api"))).toEqual([]);
  });

  it("reports a writable data store, recognised by label or by image", () => {
    const bad = changed(statefulSet("rabbitmq"), (p) => {
      p.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
      delete p.spec.template.metadata.labels["app.kubernetes.io/component"];
      delete p.metadata.labels["app.kubernetes.io/component"];
    });
    expect(check(rule, bad)).toEqual([
      'container "rabbitmq" (role rabbitmq) has a writable root filesystem (securityContext.readOnlyRootFilesystem is not true)',
    ]);
    expect(check(rule, container("postgres", { readOnly: false }))).toEqual([
      "the container (role postgres) has a writable root filesystem (readOnly is not true)",
    ]);
  });
});
