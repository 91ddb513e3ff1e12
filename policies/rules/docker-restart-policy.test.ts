import { describe, expect, it } from "vitest";
import { check } from "../test/check";
import { container, filesContainer } from "../test/docker-fixtures";
import { dockerRestartPolicy as rule } from "./docker-restart-policy";

describe(rule.name, () => {
  it("passes unless-stopped services, one-shot jobs and files containers", () => {
    expect(check(rule, container("api"))).toEqual([]);
    expect(check(rule, container("migrate", { restart: "no", attach: true }))).toEqual([]);
    expect(check(rule, filesContainer("api", []))).toEqual([]);
  });

  it("fails a long-running container that would stay down", () => {
    expect(check(rule, container("worker", { restart: "no" }))).toEqual([
      'the container\'s restart policy is "no" (allowed: unless-stopped, always)',
    ]);
    expect(check(rule, container("worker", { restart: undefined }))).toHaveLength(1);
    expect(
      check(rule, container("worker", { restart: "on-failure" }), { allowedPolicies: ["on-failure"] }),
    ).toEqual([]);
  });
});
