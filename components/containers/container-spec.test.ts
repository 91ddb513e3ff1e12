// plan → ContainerSpec[]: every container of a Docker stack, described once for both the Pulumi
// Docker target and the compose renderer.
import { describe, expect, it } from "vitest";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { repoRoot } from "../../test/support/paths";
import { containerSpecs } from "./container-spec";

const local = () => loadStackPlan({ root: repoRoot, stack: "local" }).plan;

describe("containerSpecs", () => {
  it("gives each instance its own container, in the plan's order", () => {
    const services =
      "postgres redis rabbitmq migrate bootstrap-admin api-1 api-2 worker-1 nginx backup".split(" ");
    expect(containerSpecs(local()).map((c) => [c.service, c.name])).toEqual(
      services.map((service) => [service, `chatapi-local-${service}`]),
    );
  });

  it("decides per instance: host name, aliases, instance env, files with owner and mode", () => {
    const api2 = containerSpecs(local()).find((c) => c.service === "api-2")!;
    expect(api2).toMatchObject({
      role: "api",
      image: "app",
      user: "10001:10001",
      memory: { limitBytes: 4 * 1024 ** 3, reservationBytes: 2 * 1024 ** 3, swapBytes: 4 * 1024 ** 3 },
      cpus: 2,
      cpuShares: 1024,
      pidsLimit: 512,
      stopGraceSeconds: 45,
    });
    expect(api2.env.INSTANCE_NAME).toBe("api-2");
    expect(api2.env.DATABASE_URL_FILE).toBe("/run/secrets/database_url");
    expect(Object.keys(api2.env)).toEqual([...Object.keys(api2.env)].sort((a, b) => a.localeCompare(b)));
    expect(api2.networks).toEqual([
      { network: "frontend", aliases: ["api", "api-2"] },
      { network: "backend", aliases: ["api-2"] },
    ]);
    expect(api2.files.find((f) => f.path === "/run/secrets/database_url")).toMatchObject({
      mode: 0o400,
      uid: 10001,
      gid: 10001,
    });
    expect(api2.labels).toMatchObject({ "chatapi.stack": "local", "chatapi.role": "api" });
  });

  it("expands start order to the instances each container waits for", () => {
    const nginx = containerSpecs(local()).find((c) => c.role === "nginx")!;
    expect(nginx.dependsOn.filter((d) => d.service.startsWith("api-"))).toEqual([
      { service: "api-1", container: "chatapi-local-api-1", condition: "healthy" },
      { service: "api-2", container: "chatapi-local-api-2", condition: "healthy" },
    ]);
    const api = containerSpecs(local()).find((c) => c.service === "api-1")!;
    expect(api.dependsOn).toContainEqual({
      service: "migrate",
      container: "chatapi-local-migrate",
      condition: "completed",
    });
  });

  it("runs a schedule in the container itself, publishes only nginx, switches off health checks of one-shots", () => {
    const specs = containerSpecs(local());
    const backup = specs.find((c) => c.role === "backup")!;
    expect(backup.command).toEqual(expect.arrayContaining(["backup", "--schedule", "0 2 * * *"]));
    expect(specs.filter((c) => c.ports.length > 0).map((c) => c.role)).toEqual(["nginx"]);
    expect(specs.find((c) => c.role === "migrate")!.health).toBeUndefined();
    expect(specs.find((c) => c.role === "postgres")!.volumes).toMatchObject([
      {
        volume: "postgres-data",
        key: "postgres-data",
        name: "chatapi-local-postgres-data",
        path: "/var/lib/postgresql/data",
      },
    ]);
  });

  it("refuses a Kubernetes plan", () => {
    const plan = loadStackPlan({ root: repoRoot, stack: "prod" }).plan;
    expect(() => containerSpecs(plan)).toThrow("stack prod targets kubernetes, not docker");
  });
});
