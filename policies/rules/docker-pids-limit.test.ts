import { describe, expect, it } from "vitest";
import { check } from "../test/check";
import { container, filesContainer } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { dockerPidsLimit as rule } from "./docker-pids-limit";

describe(rule.name, () => {
  it("is advisory: @pulumi/docker 5.2 cannot set --pids-limit", () =>
    expect(rule.enforcementLevel).toBe("advisory"));

  it("accepts an nproc ulimit or a cgroupParent, and ignores Kubernetes and files containers", () => {
    expect(check(rule, container("api", { ulimits: [{ name: "nproc", soft: 512, hard: 512 }] }))).toEqual([]);
    expect(check(rule, container("api", { cgroupParent: "chatapi.slice" }))).toEqual([]);
    expect(check(rule, filesContainer("api", []))).toEqual([]);
    expect(check(rule, deployment("api"))).toEqual([]);
  });

  it("reports a container with neither", () => {
    expect(check(rule, container("api"))).toEqual([
      "the container has no process limit (no nproc ulimit, no cgroupParent; @pulumi/docker 5.2 cannot set --pids-limit)",
    ]);
  });
});
