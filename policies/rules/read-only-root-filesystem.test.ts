import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment, kubernetesObject, statefulSet } from "../test/kubernetes-fixtures";
import { readOnlyRootFilesystem as rule } from "./read-only-root-filesystem";

const writable = (subject: ReturnType<typeof deployment>) =>
  changed(subject, (p) => {
    const pod = p.spec.jobTemplate ? p.spec.jobTemplate.spec.template.spec : p.spec.template.spec;
    pod.containers[0].securityContext.readOnlyRootFilesystem = false;
  });

describe(rule.name, () => {
  it("passes read-only app, nginx and backup workloads", () => {
    for (const subject of [deployment("api"), deployment("worker"), deployment("nginx")])
      expect(check(rule, subject)).toEqual([]);
    expect(check(rule, kubernetesObject("CronJob", "chatapi-prod-backup"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails a writable root for the API, nginx and the backup CronJob", () => {
    expect(check(rule, writable(deployment("api")))).toEqual([
      'container "api" (role api) has a writable root filesystem (securityContext.readOnlyRootFilesystem is not true)',
    ]);
    expect(check(rule, writable(deployment("nginx")))).toEqual([
      'container "nginx" (role nginx) has a writable root filesystem (securityContext.readOnlyRootFilesystem is not true)',
    ]);
    expect(check(rule, writable(kubernetesObject("CronJob", "chatapi-prod-backup")))).toHaveLength(1);
    expect(check(rule, container("worker", { readOnly: false }))).toEqual([
      "the container (role worker) has a writable root filesystem (readOnly is not true)",
    ]);
  });

  it("leaves data stores to the advisory rule", () => {
    expect(check(rule, writable(statefulSet("postgres")))).toEqual([]);
    expect(check(rule, container("redis", { readOnly: false }))).toEqual([]);
  });
});
