// The Docker target under Pulumi runtime mocks, built from the real stack files: the right
// resources with the right inputs for the local stack and the production Docker host.
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../config/load";
import { readStackFile } from "../config/stack-file";
import { type ProgramResult, runProgram } from "../../stacks/program";
import { noDockerEnvironment, repoRoot } from "../../test/support/paths";
import { type Captured, installMocks, isSecretInput, plain, valueOf } from "../../test/support/pulumi-mocks";
import { type TlsFixture, makeCertificate } from "../../test/support/tls-fixture";
import { buildPlan } from "../plan/build-plan";
import { workloadComponentTypes } from "../workload-components";
import { containerSpecs } from "../containers/container-spec";
import { ContainerGroup } from "./container-group";

const mocks = installMocks();

interface Deployed {
  result: ProgramResult;
  resources: Captured[];
  /** Containers that run (not the never-started files containers). */
  containers: Captured[];
  filesContainers: Captured[];
  container: (name: string) => Captured;
  /** A container's full name: the app's carry the release (api-1 → chatapi-<stack>-api-<release>-1). */
  full: (name: string) => string;
  /** Every secret value that exists in this deployment. */
  secretValues: string[];
}

async function deploy(
  file: string,
  stack: string,
  secrets: Record<string, string> = {},
  changes: Record<string, string> = {},
): Promise<Deployed> {
  const source = readStackFile(repoRoot, file, secrets);
  const result = runProgram({
    stack,
    config: { ...source.config, ...changes },
    secretKeys: source.secretKeys,
    projectDir: repoRoot,
    env: noDockerEnvironment,
  });
  const groups = Object.values(result.docker?.groups ?? {});
  await valueOf(
    pulumi.all([
      ...groups.flatMap((group) => group!.containers.map((container) => container.id)),
      result.outputs.adminClientId,
    ]),
  );
  const prefix = `chatapi-${stack}-`;
  const resources = mocks.captured.filter((r) => r.name.startsWith(prefix));
  const all = resources.filter((r) => r.type === "docker:index/container:Container");
  const filesContainers = all.filter((c) => c.name.endsWith("-files"));
  const containers = all.filter((c) => !c.name.endsWith("-files"));
  const release = result.docker!.release;
  const full = (name: string) =>
    `${prefix}${name.replace(/^(api|worker|migrate|bootstrap-admin|backup)(-\d+)?$/, `$1-${release}$2`)}`;
  const container = (name: string) => {
    const found = containers.find((c) => c.name === full(name));
    if (!found) throw new Error(`no container ${full(name)}`);
    return found;
  };
  // Generated values of this stack (passwords, keys) plus the config secrets it was given.
  const secretValues = [
    ...mocks.generatedSecrets.filter((value) =>
      resources.some((r) => JSON.stringify(plain(r.inputs)).includes(value)),
    ),
    ...Object.values(secrets).map((pem) => pem.split("\n").find((line) => line.length > 40) ?? pem),
  ];
  return { result, resources, containers, filesContainers, container, full, secretValues };
}

const inputs = (r: Captured) => plain(r.inputs) as Record<string, unknown>;
/** The files uploaded for one container (into its files container). */
const filesOf = (d: Deployed, name: string) => {
  const files = d.filesContainers.find((c) => c.name.endsWith(`-${name}-files`));
  if (!files) throw new Error(`no files container for ${name}`);
  return plain(files.inputs.uploads) as { file: string; content: string; permissions: string }[];
};
const envOf = (r: Captured) => inputs(r).envs as string[];
const networksOf = (r: Captured) =>
  Object.fromEntries(
    (inputs(r).networksAdvanced as { name: string; aliases: string[] }[]).map((n) => [
      n.name,
      [...n.aliases].sort(),
    ]),
  );

function expectSecretsInUploadsOnly({ resources, secretValues }: Deployed): void {
  expect(secretValues.length).toBeGreaterThan(4);
  for (const resource of resources) {
    if (resource.type.startsWith("tls:")) continue; // the TLS provider takes keys as input, as secrets
    const { uploads: _uploads, ...rest } = inputs(resource);
    const text = JSON.stringify(rest);
    for (const value of secretValues) expect(text, `${resource.name} leaks a secret`).not.toContain(value);
  }
}

/** Assertions every Docker stack must pass, whatever its size. */
function commonChecks(get: () => Deployed, stack: string) {
  it("creates one container per ContainerSpec of the plan, and a files container for each with files", () => {
    const specs = containerSpecs(get().result.plan, get().result.docker!.release);
    expect(
      get()
        .containers.map((c) => c.name)
        .sort(),
    ).toEqual(specs.map((s) => s.name).sort());
    expect(
      get()
        .filesContainers.map((c) => c.name)
        .sort(),
    ).toEqual(
      specs
        .filter((s) => s.files.length > 0)
        .map((s) => `${s.name}-files`)
        .sort(),
    );
    for (const spec of specs)
      expect(envOf(get().container(spec.service)), spec.name).toEqual(
        Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      );
  });

  it("publishes ports from the nginx container only", () => {
    const { containers } = get();
    const publishing = containers.filter((c) => ((inputs(c).ports as unknown[]) ?? []).length > 0);
    expect(publishing.map((c) => c.name)).toEqual([`chatapi-${stack}-nginx`]);
  });

  it("never puts a secret value in env, command, labels or any input other than the uploaded files", () => {
    expectSecretsInUploadsOnly(get());
  });

  it("delivers secrets as Pulumi secrets in files, pointed at by *_FILE variables", () => {
    const { containers, filesContainers, container } = get();
    expect(filesContainers.length).toBe(containers.length); // every container gets files
    for (const files of filesContainers) {
      const uploads = files.inputs.uploads;
      // The host firewall's files are its rules and script: nothing secret.
      if (files.name.endsWith("-firewall-files")) {
        expect(isSecretInput(uploads), files.name).toBe(false);
        continue;
      }
      expect(isSecretInput(uploads), `${files.name}: uploads must be secret`).toBe(true);
      const secretFiles = (plain(uploads) as { file: string; permissions: string; owner: string }[]).filter(
        (u) => u.file.startsWith("/run/secrets/"),
      );
      const user = String(
        inputs(container(files.name.replace(/^chatapi-[a-z-]+?-(.*)-files$/, "$1"))).user,
      ).split(":")[0];
      for (const file of secretFiles) expect(file).toMatchObject({ permissions: "0400", owner: user });
    }
    for (const running of containers) expect(running.inputs.uploads, running.name).toBeUndefined();
    const env = envOf(container("api-1"));
    expect(env).toEqual(
      expect.arrayContaining([
        "DATABASE_URL_FILE=/run/secrets/database_url",
        "REDIS_URL_FILE=/run/secrets/redis_url",
        "RABBITMQ_URL_FILE=/run/secrets/rabbitmq_url",
        "SECRET_KEY_FILE=/run/secrets/secret_key",
      ]),
    );
    expect(env.some((e) => /^(DATABASE_URL|REDIS_URL|RABBITMQ_URL|SECRET_KEY|SMTP_PASSWORD)=/.test(e))).toBe(
      false,
    );
  });

  it("fills file volumes from never-started containers; the workloads mount them read-only", () => {
    const { filesContainers, container, full } = get();
    for (const files of filesContainers) {
      expect(inputs(files)).toMatchObject({
        start: false,
        mustRun: false,
        networkMode: "none",
        restart: "no",
        logDriver: "none",
      });
      expect(inputs(files).ports).toBeUndefined();
    }
    const api = inputs(container("api-1"));
    expect(api.volumes).toContainEqual({
      volumeName: `${full("api-1")}-run-secrets`,
      containerPath: "/run/secrets",
      readOnly: true,
    });
    const filesOfApi = inputs(filesContainers.find((c) => c.name === `${full("api-1")}-files`)!);
    expect(filesOfApi.volumes).toEqual([
      { volumeName: `${full("api-1")}-run-secrets`, containerPath: "/run/secrets", readOnly: false },
    ]);
    const labels = api.labels as { label: string; value: string }[];
    expect(labels).toContainEqual({ label: "chatapi.files", value: `${full("api-1")}-files-id` });
  });

  it("marks the admin API key and every resolved secret as Pulumi secrets", async () => {
    const { result } = get();
    expect(await pulumi.isSecret(result.outputs.adminApiKey)).toBe(true);
    const values = Object.entries(result.secrets.values);
    expect(values.length).toBeGreaterThan(8);
    for (const [name, value] of values) expect(await pulumi.isSecret(value!), name).toBe(true);
  });

  it("runs every container as a non-root user with no capabilities, no new privileges, read-only root", () => {
    for (const container of get().containers) {
      const args = inputs(container);
      if (container.name.endsWith("-firewall")) {
        // The one exception, in its reviewed shape (the policy pack checks exactly this one).
        expect(args).toMatchObject({
          user: "0:0",
          networkMode: "host",
          capabilities: { drops: ["ALL"], adds: ["NET_ADMIN", "NET_RAW"] },
          securityOpts: ["no-new-privileges:true"],
          privileged: false,
          readOnly: true,
        });
        expect(args.ports).toEqual([]);
        expect(args.networksAdvanced).toEqual([]);
        continue;
      }
      expect(args.user, container.name).toMatch(/^[1-9][0-9]*:[1-9][0-9]*$/);
      expect(args.capabilities).toEqual({ drops: ["ALL"], adds: [] });
      expect(args.securityOpts).toEqual(["no-new-privileges:true"]);
      expect(args.privileged).toBe(false);
      expect(args.readOnly, container.name).toBe(true);
      expect(Object.keys(args.tmpfs as object)).toContain("/tmp");
      expect(args.logDriver).toBe("json-file");
      expect(args.logOpts).toEqual({ "max-size": "10m", "max-file": "5" });
    }
    for (const name of ["api-1", "worker-1", "migrate", "bootstrap-admin", "backup"]) {
      expect(inputs(get().container(name)).user).toBe("10001:10001");
    }
    expect(inputs(get().container("postgres")).user).toBe("999:999");
    expect(inputs(get().container("nginx")).user).toBe("101:101");
  });

  it("gives long-running containers a health check and a restart policy, one-shot jobs neither", () => {
    for (const container of get().containers) {
      const args = inputs(container);
      const job = /-(migrate|bootstrap-admin)-[0-9a-f]{8}$/.test(container.name);
      if (job) {
        // The image's HTTP HEALTHCHECK would call them unhealthy: switched off.
        expect(args.healthcheck, container.name).toEqual({ tests: ["NONE"] });
        expect(args.restart, container.name).toBe("no");
        expect(args.attach).toBe(true);
        expect(args.mustRun).toBe(false);
      } else {
        expect(args.restart, container.name).toBe("unless-stopped");
        const health = args.healthcheck as { tests: string[] };
        expect(health.tests[0], container.name).toBe("CMD");
        expect(args.wait).toBe(true);
      }
    }
    // The release gate: an API container is created once its readiness check passes.
    const api = inputs(get().container("api-1"));
    expect((api.healthcheck as { tests: string[] }).tests.at(-1)).toBe("http://127.0.0.1:8000/health/ready");
    expect(api.waitTimeout).toBe(120);
    // The backup scheduler's own check: its folder writable, its last run not failed.
    const backup = inputs(get().container("backup")).healthcheck as { tests: string[] };
    expect(backup.tests).toEqual(["CMD", "node", "/app/dist/healthcheck.js"]);
  });

  it("runs the migration and the admin bootstrap before any API container, and nginx after them", () => {
    const { resources, full } = get();
    const order = resources.filter((r) => r.type === "docker:index/container:Container").map((r) => r.name);
    const at = (name: string) => order.indexOf(full(name));
    expect(at("postgres")).toBeLessThan(at("migrate"));
    expect(at("migrate")).toBeLessThan(at("bootstrap-admin"));
    expect(at("bootstrap-admin")).toBeLessThan(at("api-1"));
    expect(at("migrate")).toBeLessThan(at("worker-1"));
    expect(at("api-2")).toBeLessThan(at("nginx"));
    const labels = inputs(get().container("api-1")).labels as { label: string; value: string }[];
    expect(labels).toEqual(
      expect.arrayContaining([
        { label: "chatapi.after.migrate", value: "succeeded" },
        { label: "chatapi.after.bootstrap-admin", value: "succeeded" },
      ]),
    );
  });

  it("bootstraps the admin client idempotently with the generated key file and client id", async () => {
    const { result } = get();
    const command = inputs(get().container("bootstrap-admin")).command as string[];
    const id = await valueOf(result.outputs.adminClientId);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(command).toEqual([
      "create-client",
      "--name",
      "Admin",
      "--email",
      expect.stringMatching(/^admin@/),
      "--admin",
      "--api-key-file",
      "/run/secrets/admin_api_key",
      "--id",
      id,
      "--json",
    ]);
    expect(inputs(get().container("migrate")).command).toEqual(["migrate"]);
  });

  it("keeps data stores on the internal backend network only, reachable by their names", () => {
    const { resources } = get();
    const networks = resources.filter((r) => r.type === "docker:index/network:Network");
    const internal = Object.fromEntries(networks.map((n) => [n.name, inputs(n).internal]));
    expect(internal[`chatapi-${stack}-backend`]).toBe(true);
    expect(internal[`chatapi-${stack}-frontend`]).toBe(true);
    expect(internal[`chatapi-${stack}-public`]).toBe(false);
    // The host has no address on the internal networks: it cannot connect to the data stores.
    const options = Object.fromEntries(networks.map((n) => [n.name, inputs(n).options]));
    for (const name of ["backend", "frontend"])
      expect(options[`chatapi-${stack}-${name}`]).toEqual({
        "com.docker.network.bridge.inhibit_ipv4": "true",
      });
    expect(options[`chatapi-${stack}-public`]).toBeUndefined();
    for (const store of ["postgres", "redis", "rabbitmq"]) {
      expect(networksOf(get().container(store))).toEqual({ [`chatapi-${stack}-backend`]: [store] });
    }
    expect(networksOf(get().container("nginx"))).toEqual({
      [`chatapi-${stack}-public`]: ["nginx"],
      [`chatapi-${stack}-frontend`]: ["nginx"],
    });
  });

  it("runs the scheduled backup container with the guide's schedule and a backups volume", () => {
    const backup = inputs(get().container("backup"));
    expect(backup.command).toEqual(["backup", "--schedule", "0 2 * * *"]);
    expect(envOf(get().container("backup"))).toEqual(
      expect.arrayContaining(["BACKUP_DIR=/backups", "BACKUP_RETENTION_DAYS=30", "BACKUP_FORMAT=plain-gz"]),
    );
    const volumes = backup.volumes as { containerPath: string }[];
    expect(volumes.map((v) => v.containerPath)).toContain("/backups");
  });

  it("uploads the nginx config rendered from the plan; the release switch gives it the release's API instances", () => {
    const { result, resources } = get();
    const uploads = filesOf(get(), "nginx");
    const conf = uploads.find((u) => u.file === "/etc/nginx/chatapi/nginx.conf")!.content;
    expect(conf).toContain("include /etc/nginx/chatapi/release/servers.conf;");
    expect(conf).toContain("hash $remote_addr consistent;");
    expect(conf).not.toMatch(/server api-/);
    const release = result.docker!.release;
    const switched = resources.find((r) => r.type === "pulumi-nodejs:dynamic/chatapi:ReleaseSwitch")!;
    const file = (inputs(switched).file as { content: string }).content;
    const apis = result.plan.workloads.find((w) => w.role === "api")!.replicas;
    for (let i = 1; i <= apis; i++) expect(file).toContain(`server api-${release}-${i}:8000`);
    expect(inputs(get().container("nginx")).entrypoints).toEqual(["nginx"]);
  });
}

/** The official images are pulled (RemoteImage) and the containers run them by ID. */
function expectOfficialImagesPulled(deployed: Deployed): void {
  const pulled = deployed.resources
    .filter((r) => r.type === "docker:index/remoteImage:RemoteImage")
    .map((r) => inputs(r).name);
  expect(pulled.sort()).toEqual([
    "nginxinc/nginx-unprivileged:1.28",
    "postgres:15-bookworm",
    "rabbitmq:3.13",
    "redis:7-bookworm",
  ]);
  expect(inputs(deployed.container("postgres")).image).toMatch(/^sha256:/); // the pulled image's ID
}

describe("Docker target: the local stack (Pulumi.local.yaml)", () => {
  let deployed: Deployed;
  beforeAll(async () => {
    deployed = await deploy("local", "local");
  });
  commonChecks(() => deployed, "local");

  it("creates the guide's containers: 2 API, 1 worker, one of everything else", () => {
    const names = deployed.containers.map((c) => c.name).sort();
    expect(names).toEqual(
      [
        "api-1",
        "api-2",
        "backup",
        "bootstrap-admin",
        "migrate",
        "nginx",
        "postgres",
        "rabbitmq",
        "redis",
        "worker-1",
      ]
        .map(deployed.full)
        .sort(),
    );
    const components = deployed.resources
      .filter((r) => r.type.startsWith("chatapi:docker:"))
      .map((r) => r.type);
    expect(components).toEqual(
      expect.arrayContaining([
        "chatapi:docker:Stack",
        "chatapi:docker:Postgres",
        "chatapi:docker:Redis",
        "chatapi:docker:RabbitMq",
        "chatapi:docker:Migration",
        "chatapi:docker:AdminBootstrap",
        "chatapi:docker:ApiInstances",
        "chatapi:docker:Workers",
        "chatapi:docker:LoadBalancer",
        "chatapi:docker:Backup",
      ]),
    );
  });

  it("pulls the official images and builds the app from app/Dockerfile on the official Node.js 24 image", () => {
    const image = deployed.resources.find((r) => r.type === "docker:index/image:Image")!;
    expect(inputs(image)).toMatchObject({
      imageName: "chatapi:1.0.0",
      skipPush: true,
      build: {
        dockerfile: `${repoRoot}/app/Dockerfile`,
        context: repoRoot,
        args: { BASE_IMAGE: "node:24-bookworm-slim", BUILD_IMAGE: "node:24-bookworm-slim" },
      },
    });
    expectOfficialImagesPulled(deployed);
    expect(inputs(deployed.container("api-1")).image).toMatch(/^sha256:/); // the built image's ID
  });

  it("gives each API instance its own alias on the frontend network", () => {
    const release = deployed.result.docker!.release;
    expect(networksOf(deployed.container("api-1"))).toEqual({
      "chatapi-local-frontend": ["api", "api-1", `api-${release}-1`],
      "chatapi-local-backend": ["api-1", `api-${release}-1`],
    });
    expect(networksOf(deployed.container("api-2"))["chatapi-local-frontend"]).toEqual([
      "api",
      "api-2",
      `api-${release}-2`,
    ]);
    expect(envOf(deployed.container("api-2"))).toContain(`INSTANCE_NAME=api-${release}-2`);
  });

  it("publishes nginx on loopback 8080/8443 and uses the local engine", () => {
    expect(inputs(deployed.container("nginx")).ports).toEqual([
      { internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8443, external: 8443, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    const provider = deployed.resources.find((r) => r.type === "pulumi:providers:docker")!;
    expect(inputs(provider).host).toBe("unix:///var/run/docker.sock");
  });

  it("signs its own certificate and exports the CA and URLs", async () => {
    const { outputs } = deployed.result;
    expect(outputs.httpsUrl).toBe("https://localhost:8443/");
    expect(outputs.websocketUrl).toBe("wss://localhost:8443/ws");
    expect(await valueOf(outputs.caCertificate!)).toContain("BEGIN CERTIFICATE");
    const csr = deployed.resources.find((r) => r.type === "tls:index/certRequest:CertRequest")!;
    expect(inputs(csr)).toMatchObject({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] });
    expect(outputs.backups.location).toContain("chatapi-local-backups");
  });
});

describe("Docker target: the production Docker host (Pulumi.dockerhost.yaml)", () => {
  let deployed: Deployed;
  let tls: TlsFixture;
  beforeAll(async () => {
    tls = makeCertificate("chat.example.com");
    deployed = await deploy("dockerhost", "dockerhost", {
      "chatapi:tlsCertificate": tls.certificate,
      "chatapi:tlsPrivateKey": tls.privateKey,
    });
  });
  commonChecks(() => deployed, "dockerhost");

  it("drives the remote engine over ssh", () => {
    const provider = deployed.resources.find((r) => r.type === "pulumi:providers:docker")!;
    // Provider inputs reach the engine as strings (lists as JSON).
    expect(inputs(provider).host).toBe("ssh://deploy@chat.example.com");
    expect(JSON.parse(String(inputs(provider).sshOpts))).toEqual(["-o", "StrictHostKeyChecking=yes"]);
  });

  it("runs 3 API instances and 2 workers with the guide's memory limits and reservations", () => {
    const count = (role: string) =>
      deployed.containers.filter((c) => new RegExp(`-${role}-[0-9a-f]{8}-[0-9]+$`).test(c.name)).length;
    expect(count("api")).toBe(3);
    expect(count("worker")).toBe(2);
    expect(inputs(deployed.container("api-3"))).toMatchObject({
      memory: 4096,
      memoryReservation: 2048,
      memorySwap: 4096,
      cpus: "2",
    });
    expect(inputs(deployed.container("worker-2"))).toMatchObject({ memory: 2048, memoryReservation: 1024 });
    expect(inputs(deployed.container("redis"))).toMatchObject({ memory: 1024 });
  });

  it("pulls the official images and builds the app on the host", () => {
    expectOfficialImagesPulled(deployed);
  });

  it("publishes 80 and 443 on every interface and redirects to the bare domain", () => {
    expect(inputs(deployed.container("nginx")).ports).toEqual([
      { internal: 8080, external: 80, ip: "0.0.0.0", protocol: "tcp" },
      { internal: 8443, external: 443, ip: "0.0.0.0", protocol: "tcp" },
    ]);
    const conf = filesOf(deployed, "nginx").find((u) => u.file.endsWith("nginx.conf"))!.content;
    expect(conf).toContain("return 301 https://chat.example.com$request_uri;");
    expect(conf).toContain("http2 on;");
    expect(conf).toContain(`max-age=63072000`);
  });

  it("serves the provided certificate and keeps backups in the host folder", () => {
    const uploads = filesOf(deployed, "nginx");
    expect(uploads.find((u) => u.file === "/run/secrets/tls_certificate")!.content).toBe(tls.certificate);
    expect(deployed.resources.some((r) => r.type.startsWith("tls:"))).toBe(false);
    const volumes = inputs(deployed.container("backup")).volumes as {
      hostPath?: string;
      containerPath: string;
    }[];
    expect(volumes).toContainEqual({
      hostPath: "/opt/chatapi/backups",
      containerPath: "/backups",
      readOnly: false,
    });
    expect(deployed.result.outputs.backups.location).toBe(
      "/opt/chatapi/backups on the Docker host (ssh://deploy@chat.example.com)",
    );
  });

  it("gives workers a way out for SMTP, and nothing else an egress network", () => {
    expect(Object.keys(networksOf(deployed.container("worker-1")))).toContain("chatapi-dockerhost-egress");
    for (const name of ["postgres", "redis", "rabbitmq", "api-1", "migrate"]) {
      expect(Object.keys(networksOf(deployed.container(name)))).not.toContain("chatapi-dockerhost-egress");
    }
    expect(envOf(deployed.container("worker-1"))).toEqual(
      expect.arrayContaining(["SMTP_HOST=smtp.example.com", "SMTP_PORT=587"]),
    );
  });

  it("applies the host firewall with a container of its own, and exports its rules: SSH from the allowed range, 80 and 443", () => {
    const firewall = deployed.result.outputs.firewall!;
    expect(firewall.enabled).toBe(true);
    expect(firewall.rulesIpv4).toContain("-A CHATAPI-INPUT -s 203.0.113.0/24 -p tcp --dport 22 -j RETURN");
    expect(firewall.rulesIpv4).toContain(
      "-A CHATAPI-DOCKER-USER -p tcp -m conntrack --ctorigdstport 443 --ctdir ORIGINAL -j RETURN",
    );
    expect(firewall.rulesIpv4).toContain("-A CHATAPI-DOCKER-USER -j DROP");
    const container = inputs(deployed.container("firewall"));
    expect(container.entrypoints).toEqual(["bash", "/etc/chatapi/firewall/firewall.sh"]);
    expect(container.command).toEqual(["run"]);
  });
});

describe("Docker target: a failed migration", () => {
  it("fails the migration's completion, which the API containers wait on, naming the container to look at", async () => {
    mocks.failingContainers.add("chatapi-failing-migrate-0a1b2c3d");
    const source = readStackFile(repoRoot, "local");
    const config = loadStackConfig({ stack: "failing", ...source, appVersion: "1.0.0" });
    const plan = buildPlan({ config, appVersion: "1.0.0" });
    const workload = plan.workloads.find((w) => w.role === "migrate")!;
    const secrets = Object.fromEntries(
      plan.secrets.map((s) => [s.name, pulumi.secret(`value-of-${s.name}`)]),
    );
    const migration = new ContainerGroup(workloadComponentTypes.docker.migrate, workload.name, {
      plan,
      workload,
      containers: containerSpecs(plan, "0a1b2c3d").filter((c) => c.role === "migrate"),
      image: "chatapi-local/chatapi:1.0.0",
      networks: { backend: "chatapi-failing-backend" },
      volumes: {},
      secrets,
      generated: {},
    });
    // An error thrown in an apply rejects the output's promise; the engine reports it on
    // every resource that takes the output as input (the API containers' labels).
    const output = migration.completion as unknown as {
      promise: () => Promise<unknown>;
      isKnown: Promise<boolean>;
      isSecret: Promise<boolean>;
    };
    // The output's known/secret promises fail the same way; they are handled here as the
    // engine would handle them.
    output.isKnown.catch(() => undefined);
    output.isSecret.catch(() => undefined);
    const completion = output.promise();
    const failure = await completion.then(
      () => new Error("the failed migration was reported as success"),
      (error: Error) => error,
    );
    expect(failure.message).toBe(
      "chatapi-failing-migrate-0a1b2c3d exited with 1; see: docker logs chatapi-failing-migrate-0a1b2c3d. Dependent containers were not started.",
    );
  });
});

describe("Docker target: ACME (tls.mode acme), certbot beside nginx", () => {
  let deployed: Deployed;
  beforeAll(async () => {
    deployed = await deploy(
      "local",
      "acmemock",
      {},
      {
        "chatapi:domain": "chat.example.com",
        "chatapi:tls": JSON.stringify({ mode: "acme", acmeEmail: "ops@example.com" }),
      },
    );
  });

  it("runs certbot from the ops image, after nginx, sharing the challenge and certificate volume with it", () => {
    const certbot = inputs(deployed.container("certbot"));
    expect(certbot).toMatchObject({
      user: "10002:101",
      entrypoints: ["bash", "/etc/chatapi/acme.sh"],
      readOnly: true,
      capabilities: { drops: ["ALL"], adds: [] },
    });
    const volumes = (c: Record<string, unknown>) =>
      (c.volumes as { volumeName: string; containerPath: string; readOnly: boolean }[]).filter((v) =>
        /-acme(-public)?$/.test(v.volumeName),
      );
    expect(volumes(certbot)).toEqual([
      { volumeName: "chatapi-acmemock-acme", containerPath: "/var/lib/chatapi-acme/state", readOnly: false },
      {
        volumeName: "chatapi-acmemock-acme-public",
        containerPath: "/var/lib/chatapi-acme/public",
        readOnly: false,
      },
    ]);
    expect(volumes(inputs(deployed.container("nginx")))).toEqual([
      { volumeName: "chatapi-acmemock-acme-public", containerPath: "/etc/nginx/acme", readOnly: true },
    ]);
    // nginx gets no certificate file of its own, and reads certbot's at every handshake.
    expect(filesOf(deployed, "nginx").map((f) => f.file)).not.toContain("/run/secrets/tls_certificate");
    const conf = filesOf(deployed, "nginx").find((f) => f.file.endsWith("nginx.conf"))!.content;
    expect(conf).toContain(
      "map $ssl_server_name $chatapi_tls_certificate { default /etc/nginx/acme/certs/current/fullchain.pem; }",
    );
    expect(conf).toContain("location ^~ /.well-known/acme-challenge/ {");
    const images = deployed.resources.filter((r) => r.type === "docker:index/image:Image").map((r) => r.name);
    expect(images).toContain("chatapi-acmemock-image-ops");
  });
});

describe("Docker target: the Docker host with Alertmanager (mail and a webhook)", () => {
  let deployed: Deployed;
  const webhook = "https://hooks.example.com/services/T000/B000/alertmanager-tok3n";
  beforeAll(async () => {
    const tls = makeCertificate("chat.example.com");
    deployed = await deploy(
      "dockerhost",
      "amhost",
      {
        "chatapi:tlsCertificate": tls.certificate,
        "chatapi:tlsPrivateKey": tls.privateKey,
        "chatapi:smtpPassword": "smtp-password-of-the-alert-mails",
        "chatapi:alertmanagerWebhookUrl": webhook,
      },
      {
        "chatapi:monitoring": JSON.stringify({
          enabled: true,
          alertmanager: { enabled: true, emailTo: ["oncall@example.com"] },
        }),
      },
    );
  });

  it("never puts the SMTP password or the webhook URL in any input other than the uploaded files", () => {
    expect(deployed.secretValues).toEqual(
      expect.arrayContaining(["smtp-password-of-the-alert-mails", webhook]),
    );
    expectSecretsInUploadsOnly(deployed);
    const files = deployed.filesContainers.find((c) => c.name.endsWith("-alertmanager-files"))!;
    expect(isSecretInput(files.inputs.uploads)).toBe(true);
  });

  it("runs Alertmanager on 127.0.0.1:9093 with its configuration and the SMTP password as secret uploads", () => {
    const alertmanager = inputs(deployed.container("alertmanager"));
    expect(alertmanager.ports).toEqual([
      { internal: 9093, external: 9093, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(alertmanager.command).toContain("--config.file=/run/secrets/alertmanager_config");
    const uploads = filesOf(deployed, "alertmanager");
    expect(uploads.map((u) => [u.file, u.permissions]).sort()).toEqual([
      ["/run/secrets/alertmanager_config", "0400"],
      ["/run/secrets/smtp_password", "0400"],
    ]);
    const config = uploads.find((u) => u.file === "/run/secrets/alertmanager_config")!.content;
    expect(config).toContain(`url: "${webhook}"`);
    expect(config).toContain("smtp_auth_password_file: /run/secrets/smtp_password");
    expect(config).not.toContain("smtp-password-of-the-alert-mails");
  });
});

describe("Docker target: the fan-out on an external Redis Cluster (fanoutCluster.mode external)", () => {
  // Made per run: no credential-looking literal in the repository.
  const password = randomBytes(18).toString("base64url");
  const nodes = ["10.0.0.11:6379", "10.0.0.12:6379", "10.0.0.13:6379"];
  let d: Deployed;
  beforeAll(async () => {
    d = await deploy(
      "local",
      "localfanout",
      { "chatapi:redisClusterPassword": password },
      { "chatapi:fanoutCluster": JSON.stringify({ mode: "external", nodes }) },
    );
  });

  it("gives each API container the node list and the password file; the worker neither", () => {
    for (const api of ["api-1", "api-2"]) {
      expect(envOf(d.container(api))).toEqual(
        expect.arrayContaining([
          `FANOUT_REDIS_CLUSTER_NODES=${nodes.join(",")}`,
          "FANOUT_REDIS_CLUSTER_PASSWORD_FILE=/run/secrets/redis_cluster_password",
        ]),
      );
      expect(filesOf(d, d.full(api).replace("chatapi-localfanout-", ""))).toContainEqual(
        expect.objectContaining({
          file: "/run/secrets/redis_cluster_password",
          content: password,
          permissions: "0400",
        }),
      );
    }
    expect(envOf(d.container("worker-1")).some((e) => e.startsWith("FANOUT_REDIS_CLUSTER"))).toBe(false);
    expect(
      filesOf(d, d.full("worker-1").replace("chatapi-localfanout-", "")).map((f) => f.file),
    ).not.toContain("/run/secrets/redis_cluster_password");
  });

  it("puts the API (only) on the egress network, to reach the cluster", () => {
    expect(Object.keys(networksOf(d.container("api-1")))).toContain("chatapi-localfanout-egress");
    expect(Object.keys(networksOf(d.container("worker-1")))).not.toContain("chatapi-localfanout-egress");
  });

  it("keeps the password in the uploaded files only, as a Pulumi secret", () => {
    expectSecretsInUploadsOnly(d);
    expect(d.secretValues).toContain(password);
  });
});

describe("Docker target: the fan-out's Redis Cluster in the stack (fanoutCluster.mode container)", () => {
  let d: Deployed;
  beforeAll(async () => {
    d = await deploy(
      "local",
      "localcluster6",
      {},
      { "chatapi:fanoutCluster": JSON.stringify({ mode: "container" }) },
    );
  });

  it("runs 6 node containers on a network of their own under one shared name, each with its own volume", () => {
    const nodes = [1, 2, 3, 4, 5, 6].map((n) => d.container(`redis-cluster-${n}`));
    const volumes = new Set<string>();
    for (const [i, node] of nodes.entries()) {
      const n = i + 1;
      expect(networksOf(node)).toEqual({
        "chatapi-localcluster6-fanout": ["redis-cluster", `redis-cluster-${n}`],
      });
      const mounts = inputs(node).volumes as { volumeName: string; containerPath: string }[];
      const data = mounts.find((m) => m.containerPath === "/data")!;
      expect(data.volumeName).toBe(`chatapi-localcluster6-redis-cluster-data-redis-cluster-${n}`);
      volumes.add(data.volumeName);
      expect((inputs(node).command as string[]).slice(0, 2)).toEqual(["sh", "-c"]);
    }
    expect(volumes.size).toBe(6);
    // The job that forms it, and the API seeded with the shared name.
    const form = d.container("redis-cluster-init");
    expect(inputs(form).restart).toBe("no");
    expect(envOf(d.container("api-1"))).toContain("FANOUT_REDIS_CLUSTER_NODES=redis-cluster:6379");
    expect(Object.keys(networksOf(d.container("api-1")))).toContain("chatapi-localcluster6-fanout");
    expect(Object.keys(networksOf(form))).toEqual(["chatapi-localcluster6-fanout"]);
    expect(Object.keys(networksOf(d.container("worker-1")))).not.toContain("chatapi-localcluster6-fanout");
  });

  it("keeps the generated password in the uploaded files only", () => {
    expectSecretsInUploadsOnly(d);
    const conf = filesOf(d, "redis-cluster-1").find((f) => f.file === "/run/secrets/redis_cluster_conf")!;
    const password = filesOf(d, "redis-cluster-1").find(
      (f) => f.file === "/run/secrets/redis_cluster_password",
    )!.content;
    expect(password).toMatch(/^.{32}$/);
    expect(conf.content).toContain(`requirepass ${password}\nmasterauth ${password}\n`);
    expect(conf.permissions).toBe("0400");
    expect(d.secretValues).toContain(password);
  });
});
