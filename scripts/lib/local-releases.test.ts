// Which of the stack's own services `scripts/local up` starts before a release: what the
// release's services wait for, and what those wait for in turn.
import { describe, expect, it } from "vitest";
import { storesOfRelease } from "./local-releases";

const service = (...dependsOn: string[]) => ({
  depends_on: Object.fromEntries(dependsOn.map((key) => [key, { condition: "service_healthy" }])),
});

describe("storesOfRelease", () => {
  it("takes what the release waits for and, transitively, what those wait for, in compose order", () => {
    const all = {
      postgres: service(),
      redis: service(),
      "redis-cluster-1": service(),
      "redis-cluster-2": service(),
      "redis-cluster-init": service("redis-cluster-1", "redis-cluster-2"),
      nginx: service("api-1"),
      "migrate-r1": service("postgres"),
      "api-1": service("postgres", "redis", "redis-cluster-init", "migrate-r1"),
    };
    const release = { "migrate-r1": all["migrate-r1"], "api-1": all["api-1"] };
    expect(storesOfRelease(all, release)).toEqual([
      "postgres",
      "redis",
      "redis-cluster-1",
      "redis-cluster-2",
      "redis-cluster-init",
    ]);
  });

  it("starts nothing the release does not wait for, and nothing of the release itself", () => {
    const all = { postgres: service(), nginx: service("api-1"), "api-1": service("postgres") };
    expect(storesOfRelease(all, { "api-1": all["api-1"] })).toEqual(["postgres"]);
    expect(storesOfRelease(all, {})).toEqual([]);
  });
});
