// plan → ContainerSpec[]: every container of a Docker stack, described once for both the Pulumi
// Docker target and the compose renderer.
import { describe, expect, it } from "vitest";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { repoRoot } from "../../test/support/paths";
import { containerSpecs } from "./container-spec";

const local = () => loadStackPlan({ root: repoRoot, stack: "local" }).plan;
const release = "0a1b2c3d";

describe("containerSpecs", () => {
  it("gives each instance its own container, in the plan's order; the app's carry the release", () => {
    const r = release;
    const services =
      `postgres redis rabbitmq migrate-${r} bootstrap-admin-${r} api-${r}-1 api-${r}-2 worker-${r}-1 nginx backup-${r}`.split(
        " ",
      );
    const specs = containerSpecs(local(), release);
    expect(specs.map((c) => [c.service, c.name])).toEqual(
      services.map((service) => [service, `chatapi-local-${service}`]),
    );
    expect(specs.filter((c) => c.release === release).map((c) => c.role)).toEqual(
      "migrate bootstrap-admin api api worker backup".split(" "),
    );
    expect(specs.filter((c) => c.release === undefined).map((c) => c.role)).toEqual(
      "postgres redis rabbitmq nginx".split(" "),
    );
  });

  it("decides per instance: host name, aliases, instance env, files with owner and mode", () => {
    const api2 = containerSpecs(local(), release).find((c) => c.service === `api-${release}-2`)!;
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
    expect(api2.env.INSTANCE_NAME).toBe(`api-${release}-2`);
    expect(api2.env.DATABASE_URL_FILE).toBe("/run/secrets/database_url");
    expect(Object.keys(api2.env)).toEqual([...Object.keys(api2.env)].sort((a, b) => a.localeCompare(b)));
    expect(api2.networks).toEqual([
      // api-2 too: Prometheus's targets name instances without their release
      { network: "frontend", aliases: ["api", `api-${release}-2`, "api-2"] },
      { network: "backend", aliases: [`api-${release}-2`, "api-2"] },
    ]);
    expect(api2.files.find((f) => f.path === "/run/secrets/database_url")).toMatchObject({
      mode: 0o400,
      uid: 10001,
      gid: 10001,
    });
    expect(api2.labels).toMatchObject({
      "chatapi.stack": "local",
      "chatapi.role": "api",
      "chatapi.release": release,
    });
    // Healthy means ready to take traffic (the release gate), within deploy.readyTimeoutSeconds.
    expect(api2.health?.command).toContain("http://127.0.0.1:8000/health/ready");
    expect(api2.readyTimeoutSeconds).toBe(120);
  });

  it("expands start order to the instances each container waits for; the stack's own never wait for a release", () => {
    const nginx = containerSpecs(local(), release).find((c) => c.role === "nginx")!;
    expect(nginx.dependsOn).toEqual([]);
    expect(nginx.volumes).toMatchObject([
      { volume: "nginx-release", path: "/etc/nginx/chatapi/release", readOnly: true, writtenByDeploy: true },
    ]);
    const api = containerSpecs(local(), release).find((c) => c.service === `api-${release}-1`)!;
    expect(api.dependsOn).toContainEqual({
      service: `migrate-${release}`,
      container: `chatapi-local-migrate-${release}`,
      condition: "completed",
    });
    expect(api.dependsOn).toContainEqual({
      service: "postgres",
      container: "chatapi-local-postgres",
      condition: "healthy",
    });
  });

  it("runs a schedule in the container itself, publishes only nginx, switches off health checks of one-shots", () => {
    const specs = containerSpecs(local(), release);
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
    expect(() => containerSpecs(plan, release)).toThrow("stack prod targets kubernetes, not docker");
  });
});
