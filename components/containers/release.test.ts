// The release model: what makes a release, which containers belong to one, the health gate and
// the nginx switch's file; the same for both Docker engines.
import { describe, expect, it } from "vitest";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { repoRoot } from "../../test/support/paths";
import { containerSpecs } from "./container-spec";
import { GATE_POLL_SECONDS, RELEASE_ID, releaseId, releaseServers, releaseServersFile } from "./release";

const plan = (set: string[] = []) => loadStackPlan({ root: repoRoot, stack: "local", set }).plan;
const image = "sha256:1111";

describe("releaseId", () => {
  it("is 8 hex digits, the same for the same image and app config", () => {
    const id = releaseId(plan(), { image });
    expect(id).toMatch(RELEASE_ID);
    expect(releaseId(plan(), { image })).toBe(id);
  });

  it("changes with the image, the app's settings, its instances and its files; not with nginx's or a data store's", () => {
    const id = releaseId(plan(), { image });
    expect(releaseId(plan(), { image: "sha256:2222" })).not.toBe(id);
    expect(releaseId(plan(), { image, files: "digest-2" })).not.toBe(id);
    expect(releaseId(plan(["app.logLevel=ERROR"]), { image })).not.toBe(id);
    expect(releaseId(plan(["api.replicas=3"]), { image })).not.toBe(id);
    expect(releaseId(plan(["worker.memory.limit=1Gi"]), { image })).not.toBe(id);
    expect(releaseId(plan(["nginx.hstsMaxAgeSeconds=600"]), { image })).toBe(id);
    expect(releaseId(plan(["redis.memory.limit=512Mi"]), { image })).toBe(id);
    expect(releaseId(plan(["deploy.readyTimeoutSeconds=30"]), { image })).toBe(id);
  });
});

describe("a release's containers", () => {
  const release = releaseId(plan(), { image });
  const specs = containerSpecs(plan(), release);

  it("are every container of the app image, named and labelled with the release", () => {
    const own = specs.filter((s) => s.release === release);
    expect(own.map((s) => s.image)).toEqual(own.map(() => "app"));
    expect(specs.filter((s) => s.image === "app")).toEqual(own);
    for (const spec of own) {
      expect(spec.name, spec.name).toContain(`-${release}`);
      expect(spec.labels["chatapi.release"]).toBe(release);
    }
  });

  it("gate on readiness: the services' Docker health check is /health/ready, polled often, within deploy.readyTimeoutSeconds", () => {
    const slow = containerSpecs(plan(["deploy.readyTimeoutSeconds=300"]), release);
    for (const role of ["api", "worker"] as const) {
      const spec = slow.find((s) => s.role === role)!;
      expect(spec.health!.command.at(-1), role).toMatch(/\/health\/ready$/);
      expect(spec.health!.intervalSeconds).toBe(GATE_POLL_SECONDS);
      expect(spec.readyTimeoutSeconds).toBe(300);
    }
    // The stack's own containers keep their checks and timeouts.
    const postgres = slow.find((s) => s.role === "postgres")!;
    expect(postgres.readyTimeoutSeconds).toBeLessThan(300);
  });
});

describe("the nginx switch", () => {
  it("lists the release's API instances, by the names their containers answer to", () => {
    const p = plan(["api.replicas=3"]);
    expect(releaseServers(p, "0a1b2c3d")).toEqual(
      [1, 2, 3].map((n) => ({ host: `api-0a1b2c3d-${n}`, port: 8000 })),
    );
    const file = releaseServersFile(p, "0a1b2c3d");
    expect(file.path).toBe("/etc/nginx/chatapi/release/servers.conf");
    expect(file.content).toBe(
      [
        "# Release 0a1b2c3d: written by the release switch; nginx includes it.",
        "server api-0a1b2c3d-1:8000 max_fails=3 fail_timeout=10s;",
        "server api-0a1b2c3d-2:8000 max_fails=3 fail_timeout=10s;",
        "server api-0a1b2c3d-3:8000 max_fails=3 fail_timeout=10s;",
        "",
      ].join("\n"),
    );
    const aliases = containerSpecs(p, "0a1b2c3d")
      .filter((s) => s.role === "api")
      .flatMap((s) => s.networks.find((n) => n.network === "frontend")!.aliases);
    for (const server of releaseServers(p, "0a1b2c3d")) expect(aliases).toContain(server.host);
  });

  it("is refused for a stack whose load balancer does not switch (Kubernetes)", () => {
    const prod = loadStackPlan({ root: repoRoot, stack: "prod" }).plan;
    expect(() => releaseServersFile(prod, "0a1b2c3d")).toThrow(
      "its load balancer does not switch between releases",
    );
  });
});
