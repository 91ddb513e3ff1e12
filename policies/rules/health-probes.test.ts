import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment, kubernetesObject } from "../test/kubernetes-fixtures";
import { healthProbes as rule } from "./health-probes";

describe(rule.name, () => {
  it("passes probed Deployments, CronJobs (no probes needed) and Docker health checks", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, kubernetesObject("CronJob", "chatapi-prod-backup"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails a Deployment container without readiness or liveness probe", () => {
    const bad = changed(deployment("worker"), (p) => {
      delete p.spec.template.spec.containers[0].readinessProbe;
      delete p.spec.template.spec.containers[0].livenessProbe;
    });
    expect(check(rule, bad)).toEqual(['container "worker" has no readinessProbe and no livenessProbe']);
  });

  it("fails a long-running Docker container without a health check; exempts one-shots and the backup daemon", () => {
    expect(check(rule, container("api", { healthcheck: undefined }))).toEqual([
      "the container has no health check (healthcheck is unset)",
    ]);
    expect(check(rule, container("api", { healthcheck: { tests: ["NONE"] } }))).toEqual([
      "the container disables its health check (healthcheck tests: [NONE])",
    ]);
    expect(
      check(rule, container("migrate", { healthcheck: undefined, attach: true, restart: "no" })),
    ).toEqual([]);
    expect(check(rule, container("backup", { healthcheck: undefined }))).toEqual([]);
    expect(
      check(rule, container("backup", { healthcheck: undefined }), { dockerExemptRoles: [] }),
    ).toHaveLength(1);
  });
});
