// The compose renderer on its own: one service per instance with the plan's names and
// aliases, start order as depends_on conditions, only nginx publishing, internal networks
// isolated from the host, every file mounted with its owner and mode, and no secret value.
import { describe, expect, it } from "vitest";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { repoRoot } from "../../test/support/paths";
import { makeCertificate } from "../../test/support/tls-fixture";
import { renderCompose } from "./render-compose";
import { resolveSecretValues } from "./secret-values";

const generated = { admin_client_id: "3f0c9a52-4b1e-4d7a-9a63-0f6a8c1d2e4b" };
const release = "0a1b2c3d";
const local = () => loadStackPlan({ root: repoRoot, stack: "local" });

describe("renderCompose", () => {
  it("makes one service per container, named and aliased as the Docker target names them (the app's with its release)", () => {
    const { compose, projectName } = renderCompose({ plan: local().plan, release, generated });
    expect(projectName).toBe("chatapi-local");
    expect(Object.keys(compose.services)).toEqual([
      "postgres",
      "redis",
      "rabbitmq",
      `migrate-${release}`,
      `bootstrap-admin-${release}`,
      `api-${release}-1`,
      `api-${release}-2`,
      `worker-${release}-1`,
      "nginx",
      `backup-${release}`,
    ]);
    const api2 = compose.services[`api-${release}-2`]!;
    expect(api2).toMatchObject({
      container_name: `chatapi-local-api-${release}-2`,
      hostname: `api-${release}-2`,
      image: "chatapi:1.0.0",
      entrypoint: ["chatapi"],
      command: ["serve"],
      user: "10001:10001",
      read_only: true,
      cap_drop: ["ALL"],
      security_opt: ["no-new-privileges:true"],
      init: true,
      restart: "unless-stopped",
      mem_limit: 4 * 1024 ** 3,
      memswap_limit: 4 * 1024 ** 3,
      mem_reservation: 2 * 1024 ** 3,
      pids_limit: 512,
      stop_grace_period: "45s",
    });
    expect(api2.environment.INSTANCE_NAME).toBe(`api-${release}-2`);
    expect(api2.labels["chatapi.release"]).toBe(release);
    expect(api2.networks).toEqual({
      // api-2 too: Prometheus's targets name instances without their release
      frontend: { aliases: ["api", `api-${release}-2`, "api-2"] },
      backend: { aliases: [`api-${release}-2`, "api-2"] },
    });
    // The release gate: the API's Docker health check is its readiness check.
    expect(api2.healthcheck).toMatchObject({
      test: expect.arrayContaining(["http://127.0.0.1:8000/health/ready"]),
    });
    expect(compose.services[`bootstrap-admin-${release}`]!.command).toContain(generated.admin_client_id);
    expect(compose.services[`migrate-${release}`]!.restart).toBe("no");
    // One-shot jobs: the image's HTTP HEALTHCHECK is switched off, not inherited.
    for (const name of [`migrate-${release}`, `bootstrap-admin-${release}`])
      expect(compose.services[name]!.healthcheck, name).toEqual({ disable: true });
    // The backup scheduler: healthy while it can write its folder and its last run did not fail.
    expect(compose.services[`backup-${release}`]!.healthcheck).toMatchObject({
      test: ["CMD", "node", "/app/dist/healthcheck.js"],
    });
    expect(compose.services.nginx!.labels["chatapi.release"]).toBeUndefined();
  });

  it("orders a release's start with depends_on (healthy data stores, its completed jobs); nginx waits for no release", () => {
    const { compose } = renderCompose({ plan: local().plan, release, generated });
    expect(compose.services[`api-${release}-1`]!.depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
      rabbitmq: { condition: "service_healthy" },
      [`migrate-${release}`]: { condition: "service_completed_successfully" },
      [`bootstrap-admin-${release}`]: { condition: "service_completed_successfully" },
    });
    // The release switch starts or reloads nginx once a release is ready (scripts/local).
    expect(compose.services.nginx!.depends_on).toBeUndefined();
    expect(compose.services.nginx!.volumes).toContain("nginx-release:/etc/nginx/chatapi/release:ro");
    expect(compose.volumes?.["nginx-release"]).toEqual({
      name: "chatapi-local-nginx-release",
      external: true,
    });
    expect(compose.services.postgres!.depends_on).toBeUndefined();
  });

  it("publishes nginx's ports only, on the configured address; data stores sit on the isolated internal network", () => {
    const { compose } = renderCompose({ plan: local().plan, release, generated });
    const publishing = Object.entries(compose.services).filter(([, s]) => s.ports);
    expect(publishing.map(([k]) => k)).toEqual(["nginx"]);
    expect(compose.services.nginx!.ports).toEqual(["127.0.0.1:8080:8080/tcp", "127.0.0.1:8443:8443/tcp"]);
    for (const store of ["postgres", "redis", "rabbitmq"])
      expect(Object.keys(compose.services[store]!.networks ?? {})).toEqual(["backend"]);
    expect(compose.networks.backend).toMatchObject({
      name: "chatapi-local-backend",
      internal: true,
      driver_opts: { "com.docker.network.bridge.inhibit_ipv4": "true" },
    });
    expect(compose.networks.public).toMatchObject({ internal: false });
    expect(compose.networks.public!.driver_opts).toBeUndefined();
    expect(compose.volumes?.["postgres-data"]).toMatchObject({ name: "chatapi-local-postgres-data" });
  });

  it("mounts each file with its workload's owner: secrets 0400 through secrets:, configuration 0444 bind-mounted", () => {
    const { compose, files } = renderCompose({ plan: local().plan, release, generated });
    expect(files.find((f) => f.role === "postgres")).toEqual({
      role: "postgres",
      hostPath: "files/postgres/run/secrets/postgres_password",
      containerPath: "/run/secrets/postgres_password",
      source: { secret: "postgres_password" },
      mode: 0o400,
      uid: 999,
      gid: 999,
    });
    expect(files.find((f) => f.containerPath === "/etc/nginx/chatapi/nginx.conf")).toMatchObject({
      mode: 0o444,
      uid: 101,
    });
    expect(compose.services.nginx!.volumes).toContain(
      "./files/nginx/etc/nginx/chatapi/nginx.conf:/etc/nginx/chatapi/nginx.conf:ro",
    );
    expect(compose.services.nginx!.secrets).toContainEqual({
      source: "nginx-tls_private_key",
      target: "/run/secrets/tls_private_key",
    });
    expect(compose.secrets?.["nginx-tls_private_key"]).toEqual({
      file: "./files/nginx/run/secrets/tls_private_key",
    });
    expect(compose.services[`api-${release}-1`]!.environment.DATABASE_URL_FILE).toBe(
      "/run/secrets/database_url",
    );
  });

  it("escapes $ for compose interpolation, and carries a files version label when given", () => {
    const { compose } = renderCompose({
      plan: local().plan,
      release,
      generated,
      filesVersion: { redis: "abc123" },
    });
    const redis = compose.services.redis!;
    expect((redis.healthcheck as { test: string[] }).test.join(" ")).toContain(
      'REDISCLI_AUTH="$$(cat /run/secrets/redis_password)"',
    );
    expect(redis.labels["chatapi.files"]).toBe("abc123");
    expect(redis.labels["app.kubernetes.io/managed-by"]).toBe("docker-compose");
  });

  it("holds no secret value, whatever the values are", () => {
    const { plan } = local();
    const values = resolveSecretValues(plan, {
      existing: {},
      config: {},
      password: (n) => `S3cr3t${"x".repeat(n - 6)}`,
      selfSigned: { chain: "-----CHAIN-VALUE-----", privateKey: "-----KEY-VALUE-----" },
    });
    const text = JSON.stringify(renderCompose({ plan, release, generated }).compose);
    for (const [name, value] of Object.entries(values)) expect(text, name).not.toContain(value);
  });

  it("renders the production Docker host stack with a host folder for backups", () => {
    const cert = makeCertificate("chat.example.com", 90);
    const { plan } = loadStackPlan({
      root: repoRoot,
      stack: "dockerhost",
      secrets: { tlsCertificate: cert.certificate, tlsPrivateKey: cert.privateKey },
    });
    const { compose } = renderCompose({ plan, release, generated });
    expect(Object.keys(compose.services).filter((k) => k.startsWith("api-"))).toEqual(
      [1, 2, 3].map((n) => `api-${release}-${n}`),
    );
    expect(compose.services.nginx!.ports).toEqual(["0.0.0.0:80:8080/tcp", "0.0.0.0:443:8443/tcp"]);
    expect(compose.services[`backup-${release}`]!.volumes).toContain("/opt/chatapi/backups:/backups:rw");
    expect(compose.volumes?.backups).toBeUndefined();
  });

  it("refuses a Kubernetes stack", () => {
    const { plan } = loadStackPlan({ root: repoRoot, stack: "prod" });
    expect(() => renderCompose({ plan, release, generated })).toThrow(
      "stack prod targets kubernetes, not docker",
    );
  });
});
