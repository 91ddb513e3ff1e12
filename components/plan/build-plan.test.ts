// The plan on its own: pure data from config, the single source every target reads.
import { describe, expect, it } from "vitest";
import { planWith as planFor } from "../../test/support/stack-plans";
import { dockerInstances } from "./names";
import type { DeploymentPlan, Role } from "./types";

const workload = (plan: DeploymentPlan, role: Role) => plan.workloads.find((w) => w.role === role)!;

describe("deployment plan", () => {
  it("is plain data: JSON round-trips it unchanged", () => {
    const plan = planFor("local");
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it("carries no secret value, only references to secrets by name", () => {
    const dsn = "https://publickey@sentry.example.com/42";
    const plan = planFor("local", {}, { "chatapi:sentryDsn": dsn });
    expect(JSON.stringify(plan)).not.toContain("publickey");
    expect(plan.secrets.find((s) => s.name === "sentry_dsn")?.source).toEqual({
      kind: "config",
      key: "sentryDsn",
    });
    expect(workload(plan, "api").files).toContainEqual({
      path: "/run/secrets/sentry_dsn",
      source: { secret: "sentry_dsn" },
      env: "SENTRY_DSN_FILE",
    });
  });

  it("builds the app image on the official Node.js 24 image, with the offline build image in the offline preset", () => {
    expect(planFor("local").images.app.build?.args).toEqual({
      BASE_IMAGE: "node:24-bookworm-slim",
      BUILD_IMAGE: "node:24-bookworm-slim",
    });
    const offline = planFor("local", { "chatapi:images": JSON.stringify({ preset: "offline" }) });
    expect(offline.images.app.build?.args).toEqual({
      BASE_IMAGE: "chatapi-local/node:24-bookworm",
      BUILD_IMAGE: "chatapi-local/node:24-bookworm-build",
    });
    const upstream = planFor("local", {
      "chatapi:images": JSON.stringify({ appBaseImage: "registry.example.com/node:20.20-slim" }),
    });
    expect(upstream.images.app.build?.args).toEqual({
      BASE_IMAGE: "registry.example.com/node:20.20-slim",
      BUILD_IMAGE: "registry.example.com/node:20.20-slim",
    });
  });

  it("lists workloads after everything they depend on", () => {
    for (const stack of ["local", "prod"]) {
      const plan = planFor(stack);
      const seen = new Set<Role>();
      for (const w of plan.workloads) {
        for (const dependency of w.dependsOn)
          expect(seen.has(dependency.role), `${w.role} after ${dependency.role}`).toBe(true);
        seen.add(w.role);
      }
    }
  });

  it("orders migration and admin bootstrap before the API", () => {
    expect(workload(planFor("local"), "api").dependsOn).toEqual(
      expect.arrayContaining([
        { role: "migrate", condition: "completed" },
        { role: "bootstrap-admin", condition: "completed" },
        { role: "postgres", condition: "healthy" },
      ]),
    );
    expect(workload(planFor("local"), "bootstrap-admin").dependsOn).toEqual([
      { role: "migrate", condition: "completed" },
    ]);
  });

  it("puts every pair of workloads that talk on a shared network, and data stores on the internal one only", () => {
    const plan = planFor("prod");
    const networksOf = (role: Role) => new Set(workload(plan, role).networks.map((n) => n.network));
    for (const flow of plan.flows) {
      if (flow.to === "internet") {
        expect(networksOf(flow.from).has("egress"), `${flow.from} -> internet`).toBe(true);
        continue;
      }
      const shared = [...networksOf(flow.from)].filter((n) => networksOf(flow.to as Role).has(n));
      expect(shared.length, `${flow.from} -> ${flow.to}`).toBeGreaterThan(0);
    }
    const internal = new Set(plan.networks.filter((n) => n.internal).map((n) => n.name));
    for (const store of ["postgres", "redis", "rabbitmq"] as const) {
      expect(
        [...networksOf(store)].every((n) => internal.has(n)),
        store,
      ).toBe(true);
      expect(workload(plan, store).ports.some((p) => p.published)).toBe(false);
    }
    expect(plan.workloads.filter((w) => w.ports.some((p) => p.published)).map((w) => w.role)).toEqual([
      "nginx",
    ]);
  });

  it("gives nginx the live release's API instances as upstreams, through a file the release switch writes", () => {
    const plan = planFor("local", { "chatapi:api": JSON.stringify({ replicas: 4 }) });
    const instances = dockerInstances(workload(plan, "api"), "0a1b2c3d");
    expect(instances.map((i) => i.name)).toEqual([1, 2, 3, 4].map((n) => `chatapi-local-api-0a1b2c3d-${n}`));
    expect(plan.loadBalancer.upstream).toEqual({
      kind: "release",
      file: "/etc/nginx/chatapi/release/servers.conf",
      port: 8000,
    });
    for (const instance of instances) expect(instance.aliases.frontend).toContain(instance.shortName);
    // nginx reads the file from a volume the deploy writes.
    expect(workload(plan, "nginx").mounts).toEqual([
      { volume: "nginx-release", path: "/etc/nginx/chatapi/release", readOnly: true },
    ]);
    expect(plan.volumes.find((v) => v.name === "nginx-release")).toMatchObject({ writtenByDeploy: true });
    expect(planFor("prod").volumes.find((v) => v.name === "nginx-release")).toBeUndefined();
  });

  it("uses a headless Service name on Kubernetes, re-resolved by nginx", () => {
    const plan = planFor("prod");
    expect(plan.loadBalancer.upstream).toEqual({
      kind: "dns",
      name: "chatapi-prod-api-headless.chatapi.svc.cluster.local",
      port: 8000,
      resolver: "kube-dns.kube-system.svc.cluster.local",
    });
    expect(plan.autoscaling).toEqual({
      role: "api",
      minReplicas: 3,
      maxReplicas: 10,
      targetCpuUtilization: 70,
    });
    expect(plan.tls).toEqual({
      mode: "acme",
      issuer: { existing: true, name: "letsencrypt-prod", kind: "ClusterIssuer" },
    });
    expect(plan.images.app).toEqual({ ref: "registry.example.com/chatapi:1.0.0", pull: true });
  });

  it("sizes PostgreSQL's connection limit for every process's pool", () => {
    const local = planFor("local"); // pools 5+5; 2 API + 1 worker + 3 one-shots
    expect(workload(local, "postgres").command).toEqual(["postgres", "-c", "max_connections=70"]);
    const prod = planFor("prod"); // pools 20+30; HPA max 10 + 2 workers + 3
    expect(workload(prod, "postgres").command).toEqual(["postgres", "-c", "max_connections=760"]);
  });

  it("drops the data store containers and uses the config secret for an external database", () => {
    const plan = planFor(
      "local",
      { "chatapi:postgres": JSON.stringify({ mode: "external" }) },
      {
        "chatapi:databaseUrl": "postgresql://u:p@db.example.com:5432/chat",
      },
    );
    expect(plan.workloads.map((w) => w.role)).not.toContain("postgres");
    expect(plan.secrets.find((s) => s.name === "database_url")?.source).toEqual({
      kind: "config",
      key: "databaseUrl",
    });
    expect(plan.flows).toContainEqual({
      from: "api",
      to: "internet",
      port: 5432,
      purpose: "managed postgres",
    });
    expect(workload(plan, "api").networks.map((n) => n.network)).toContain("egress");
    expect(plan.volumes.map((v) => v.name)).not.toContain("postgres-data");
  });

  it("gives each app process only the secrets its command uses", () => {
    const plan = planFor(
      "local",
      { "chatapi:smtp": JSON.stringify({ host: "smtp.example.com", port: 587, from: "chat@example.com" }) },
      { "chatapi:smtpPassword": "smtp-secret", "chatapi:sentryDsn": "https://k@sentry.example.com/1" },
    );
    const secretsOf = (role: Role) =>
      workload(plan, role)
        .files.map((f) => ("secret" in f.source ? f.source.secret : "?"))
        .sort();
    expect(secretsOf("api")).toEqual([
      "database_url",
      "rabbitmq_url",
      "redis_url",
      "secret_key",
      "sentry_dsn",
    ]);
    expect(secretsOf("worker")).toEqual([
      "database_url",
      "rabbitmq_url",
      "redis_url",
      "sentry_dsn",
      "smtp_password",
    ]);
    expect(secretsOf("migrate")).toEqual(["database_url"]);
    expect(secretsOf("bootstrap-admin")).toEqual(["admin_api_key", "database_url"]);
    expect(secretsOf("backup")).toEqual(["database_url"]);
  });

  it("builds connection URLs and data store config files from secret references", () => {
    const plan = planFor("local");
    expect(plan.secrets.find((s) => s.name === "database_url")?.source).toEqual({
      kind: "template",
      parts: ["postgresql://chatapi:", { secret: "postgres_password" }, "@postgres:5432/chatapi"],
    });
    const redisConf = plan.secrets.find((s) => s.name === "redis_conf")!.source;
    expect(redisConf.kind === "template" && redisConf.parts).toContainEqual({ secret: "redis_password" });
    expect(workload(plan, "rabbitmq").files).toEqual([
      { path: "/etc/rabbitmq/conf.d/20-chatapi.conf", source: { secret: "rabbitmq_conf" } },
    ]);
  });

  it("hardens every workload: non-root, all capabilities dropped, none added, read-only root, limits", () => {
    for (const w of planFor("prod").workloads) {
      expect(w.security.user, w.role).not.toMatch(/^0:/);
      expect(w.security).toMatchObject({
        dropCapabilities: ["ALL"],
        addCapabilities: [],
        noNewPrivileges: true,
        readOnlyRootFilesystem: true,
      });
      expect(w.resources.memory.limitBytes).toBeGreaterThanOrEqual(w.resources.memory.requestBytes);
      expect(w.resources.cpu.limitMillis).toBeGreaterThanOrEqual(w.resources.cpu.requestMillis);
      expect(w.resources.pidsLimit).toBeGreaterThan(0);
      expect(w.labels["app.kubernetes.io/component"]).toBe(w.role);
    }
    const api = workload(planFor("prod"), "api");
    expect(api.resources).toEqual({
      cpu: { requestMillis: 1000, limitMillis: 2000 },
      memory: { requestBytes: 2 * 1024 ** 3, limitBytes: 4 * 1024 ** 3 },
      pidsLimit: 512,
    });
    expect(api.readiness?.http).toEqual({ path: "/health/ready", port: 8000 });
  });

  it("carries monitoring.enabled: off by default, on when the stack sets it", () => {
    expect(planFor("local").monitoring).toMatchObject({ enabled: false, jobs: [] });
    expect(planFor("prod", { "chatapi:monitoring": '{"enabled":true}' }).monitoring).toMatchObject({
      enabled: true,
    });
  });

  it("describes the backup schedule for both a scheduler (CronJob) and a host without one", () => {
    const backup = workload(planFor("prod"), "backup");
    expect(backup.kind).toBe("scheduled");
    expect(backup.command).toEqual(["backup"]);
    expect(backup.schedule).toEqual({
      cron: "0 2 * * *",
      daemonCommand: ["backup", "--schedule", "0 2 * * *"],
    });
  });
});

describe("a Docker host's own processes: certbot (tls.mode acme) and the host firewall", () => {
  const acme = () =>
    planFor("local", {
      "chatapi:domain": "chat.example.com",
      "chatapi:tls": JSON.stringify({
        mode: "acme",
        acmeEmail: "ops@example.com",
        acmeRenewCheckSeconds: 600,
      }),
    });

  it("acme: a certbot workload beside nginx, which serves its challenges and reads its certificate from a shared volume", () => {
    const plan = acme();
    const certbot = workload(plan, "certbot");
    expect(certbot).toMatchObject({
      image: "ops",
      kind: "service",
      entrypoint: ["bash", "/etc/chatapi/acme.sh"],
      dependsOn: [{ role: "nginx", condition: "healthy" }],
      mounts: [
        { volume: "acme", path: "/var/lib/chatapi-acme/state", readOnly: false },
        { volume: "acme-public", path: "/var/lib/chatapi-acme/public", readOnly: false },
      ],
    });
    // Its own non-root uid, nginx's group (which reads the published key), nothing added back.
    expect(certbot.security).toMatchObject({
      user: "10002:101",
      addCapabilities: [],
      readOnlyRootFilesystem: true,
    });
    expect(certbot.networks.map((n) => n.network)).toEqual(["egress"]);
    const nginx = workload(plan, "nginx");
    expect(nginx.mounts).toContainEqual({ volume: "acme-public", path: "/etc/nginx/acme", readOnly: true });
    // beside the release switch's upstream servers
    expect(nginx.mounts.map((m) => m.volume)).toEqual(["nginx-release", "acme-public"]);
    expect(nginx.files.some((f) => "secret" in f.source)).toBe(false);
    expect(plan.secrets.map((s) => s.name)).not.toContain("tls_certificate");
    expect(plan.loadBalancer).toMatchObject({
      acmeWebroot: "/etc/nginx/acme/webroot",
      paths: {
        certificate: "/etc/nginx/acme/certs/current/fullchain.pem",
        privateKey: "/etc/nginx/acme/certs/current/privkey.pem",
      },
    });
    expect(plan.tls).toMatchObject({
      mode: "acme",
      certbot: { email: "ops@example.com", renewCheckSeconds: 600 },
    });
    expect(plan.images.ops?.build).toEqual({
      context: "components/ops",
      dockerfile: "components/ops/Dockerfile",
      args: { BASE_IMAGE: "debian:bookworm-slim" }, // Pulumi.local.yaml: upstream images by default
      pullBases: true,
    });
  });

  it("plans the ops image only for a stack that runs it", () => {
    expect(planFor("local").images.ops).toBeUndefined();
    expect(planFor("local").workloads.map((w) => w.role)).not.toContain("certbot");
  });

  it("the firewall: on for a production Docker host, off for a local stack; root with NET_ADMIN and NET_RAW in the host's network only", () => {
    expect(planFor("local").firewall.enabled).toBe(false);
    const plan = planFor("local", {
      "chatapi:firewall": JSON.stringify({
        enabled: true,
        externalInterface: "ens3",
        sshAllowFrom: ["198.51.100.0/24"],
      }),
    });
    const firewall = workload(plan, "firewall");
    expect(plan.workloads[0]!.role).toBe("firewall"); // before nginx publishes anything
    expect(firewall).toMatchObject({
      image: "ops",
      hostNetwork: true,
      networks: [],
      mounts: [],
      ports: [],
      entrypoint: ["bash", "/etc/chatapi/firewall/firewall.sh"],
      command: ["run"],
    });
    expect(firewall.security).toEqual({
      user: "0:0",
      readOnlyRootFilesystem: true,
      dropCapabilities: ["ALL"],
      addCapabilities: ["NET_ADMIN", "NET_RAW"],
      noNewPrivileges: true,
    });
    const rules = firewall.files.find((f) => f.path === "/etc/chatapi/firewall/rules.v4")!.source;
    expect("content" in rules && rules.content).toContain(
      "-A CHATAPI-INPUT -s 198.51.100.0/24 -p tcp --dport 22 -j RETURN",
    );
    expect(plan.firewall).toMatchObject({ enabled: true, owner: "chatapi-local", externalInterface: "ens3" });
  });
});
