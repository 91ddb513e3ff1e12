// The Kubernetes target under Pulumi runtime mocks, built from the real Pulumi.prod.yaml: every
// guide item exists with the right fields, the Jobs gate the API, no secret value appears in
// any input except the Secret objects, and a config that provides every secret and the TLS
// material creates no @pulumi/random or @pulumi/tls resource (what the real engine can run).
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readStackFile } from "../config/stack-file";
import { type ProgramResult, runProgram } from "../../stacks/program";
import { runProgramUnderMocks } from "../../test/support/mock-program";
import { repoRoot } from "../../test/support/paths";
import { type Captured, installMocks, isSecretInput, plain } from "../../test/support/pulumi-mocks";
import { type TlsFixture, makeCertificate } from "../../test/support/tls-fixture";

const mocks = installMocks();

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads nested manifest fields

interface Deployed {
  result: ProgramResult;
  resources: Captured[];
  /** Captured Kubernetes object of a type (e.g. "apps/v1:Deployment") and Pulumi name. */
  get: (type: string, name: string) => Obj;
  of: (type: string) => Captured[];
  secretValues: string[];
}

async function deploy(
  stack: string,
  changes: Record<string, string> = {},
  secrets: Record<string, string> = {},
): Promise<Deployed> {
  const source = readStackFile(repoRoot, "prod", secrets);
  const { result, resources } = await runProgramUnderMocks(mocks, {
    stack,
    config: { ...source.config, ...changes },
    secretKeys: source.secretKeys,
  });
  const prefix = `chatapi-${stack}-`;
  const of = (type: string) => resources.filter((r) => r.type === `kubernetes:${type}`);
  const get = (type: string, name: string) => {
    const found = of(type).find((r) => r.name === `${prefix}${name}`);
    if (!found)
      throw new Error(
        `no ${type} ${prefix}${name}; have ${of(type)
          .map((r) => r.name)
          .join(", ")}`,
      );
    return plain(found.inputs) as Obj;
  };
  const secretValues = [
    ...mocks.generatedSecrets.filter((value) =>
      resources.some((r) => JSON.stringify(plain(r.inputs)).includes(value)),
    ),
    ...Object.values(secrets).map((pem) => pem.split("\n").find((line) => line.length > 40) ?? pem),
  ];
  return { result, resources, get, of, secretValues };
}

const container = (o: Obj) => o.spec.template.spec.containers[0] as Obj;
const podSpec = (o: Obj) => o.spec.template.spec as Obj;

describe("prod stack (Pulumi.prod.yaml) on Kubernetes", () => {
  let d: Deployed;
  beforeAll(async () => {
    d = await deploy(
      "prod",
      {},
      {
        "chatapi:smtpPassword": "smtp-Secret-Value-0123456789",
        "chatapi:sentryDsn": "https://abcdef0123456789@sentry.example.com/1",
      },
    );
  });

  it("creates one component per guide item and every object the guide needs", () => {
    const components = d.resources.filter((r) => r.type.startsWith("chatapi:kubernetes:")).map((r) => r.type);
    expect(new Set(components)).toEqual(
      new Set(
        [
          "Stack",
          "Namespace",
          "Secrets",
          "NetworkPolicies",
          "Postgres",
          "Redis",
          "RabbitMq",
          "Migration",
          "AdminBootstrap",
          "Api",
          "Workers",
          "LoadBalancer",
          "Backup",
        ].map((n) => `chatapi:kubernetes:${n}`),
      ),
    );
    const kinds = d.resources
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map((r) => `${r.type.split(":")[1]}:${r.type.split(":")[2]}`);
    expect(new Set(kinds)).toEqual(
      new Set([
        "core/v1:Namespace",
        "core/v1:ServiceAccount",
        "core/v1:Secret",
        "cert-manager.io/v1:Certificate",
        "networking.k8s.io/v1:NetworkPolicy",
        "core/v1:Service",
        "apps/v1:StatefulSet",
        "batch/v1:Job",
        "apps/v1:Deployment",
        "policy/v1:PodDisruptionBudget",
        "autoscaling/v2:HorizontalPodAutoscaler",
        "core/v1:ConfigMap",
        "core/v1:PersistentVolumeClaim",
        "batch/v1:CronJob",
      ]),
    );
    expect(d.of("core/v1:Secret")).toHaveLength(1); // app secrets; the TLS Secret is cert-manager's
  });

  it("puts everything in its own namespace, never default, with Pod Security restricted enforced", () => {
    const ns = d.get("core/v1:Namespace", "namespace");
    expect(ns.metadata.name).toBe("chatapi");
    expect(ns.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "app.kubernetes.io/instance": "prod",
    });
    for (const r of d.resources.filter(
      (x) => x.type.startsWith("kubernetes:") && !x.type.endsWith(":Namespace"),
    )) {
      const meta = (plain(r.inputs) as Obj).metadata;
      expect(meta.namespace, r.name).toBe("chatapi");
      expect(meta.labels["app.kubernetes.io/name"], r.name).toBe("chatapi");
      expect(meta.labels["app.kubernetes.io/part-of"], r.name).toBe("chatapi");
      expect(meta.labels["app.kubernetes.io/managed-by"], r.name).toBe("pulumi");
    }
  });

  it("API: no replicas field (the HPA owns the count), HPA autoscaling/v2 3..10 at 70% CPU", () => {
    const api = d.get("apps/v1:Deployment", "api");
    expect(api.spec).not.toHaveProperty("replicas");
    const hpa = d.get("autoscaling/v2:HorizontalPodAutoscaler", "api-hpa");
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "chatapi-prod-api" },
      minReplicas: 3,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
    });
    expect(d.get("apps/v1:Deployment", "worker").spec.replicas).toBe(2);
    expect(d.get("apps/v1:Deployment", "nginx").spec.replicas).toBe(2);
  });

  it("API pods: guide resources, probes on /health/ready and /health, a grace period longer than the drain", () => {
    const api = d.get("apps/v1:Deployment", "api");
    const c = container(api);
    expect(c.image).toBe("registry.example.com/chatapi:1.0.0");
    expect(c.command).toEqual(["chatapi"]);
    expect(c.args).toEqual(["serve"]);
    expect(c.resources).toEqual({
      requests: { cpu: "1", memory: "2Gi" },
      limits: { cpu: "2", memory: "4Gi" },
    });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health/ready", port: 8000 });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: 8000 });
    expect(c.startupProbe.httpGet).toEqual({ path: "/health", port: 8000 });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(20);
    const spec = podSpec(api);
    // The app drains WebSockets for up to ~30 s after SIGTERM, after the 10 s preStop pause.
    expect(spec.terminationGracePeriodSeconds).toBe(55);
    expect(c.lifecycle.preStop.exec.command).toEqual(["sleep", "10"]);
    expect(spec.topologySpreadConstraints.map((t: Obj) => t.topologyKey)).toEqual([
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
    ]);
    expect(spec.topologySpreadConstraints[0].labelSelector.matchLabels).toEqual(
      api.spec.selector.matchLabels,
    );
    expect(api.spec.template.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8000",
      "prometheus.io/path": "/metrics",
    });
    expect(container(d.get("apps/v1:Deployment", "worker")).readinessProbe.httpGet).toEqual({
      path: "/health/ready",
      port: 9000,
    });
    expect(
      d.get("apps/v1:Deployment", "worker").spec.template.metadata.annotations["prometheus.io/port"],
    ).toBe("9000");
  });

  it("runs every container under the restricted profile with requests and limits", () => {
    const podOwners = [
      ...d.of("apps/v1:Deployment"),
      ...d.of("apps/v1:StatefulSet"),
      ...d.of("batch/v1:Job"),
    ].map((r) => plain(r.inputs) as Obj);
    const cron = d.get("batch/v1:CronJob", "backup");
    const pods = [...podOwners.map(podSpec), cron.spec.jobTemplate.spec.template.spec as Obj];
    expect(pods).toHaveLength(9);
    for (const pod of pods) {
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe("chatapi-prod");
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers] as Obj[]) {
        expect(c.securityContext, c.name).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        expect(c.securityContext.capabilities.add, c.name).toBeUndefined();
        expect(Object.keys(c.resources.requests).sort(), c.name).toEqual(["cpu", "memory"]);
        expect(Object.keys(c.resources.limits).sort(), c.name).toEqual(["cpu", "memory"]);
        expect(c.image, c.name).toMatch(/:[\w.-]+$|@sha256:/);
        // /tmp is a size-limited emptyDir in memory: the root filesystem stays read-only.
        const tmp = c.volumeMounts.find((m: Obj) => m.mountPath === "/tmp");
        expect(tmp, c.name).toBeDefined();
        expect(pod.volumes.find((v: Obj) => v.name === tmp.name).emptyDir).toMatchObject({
          medium: "Memory",
        });
      }
    }
  });

  it("delivers secrets only as mounted files named by *_FILE variables, never as env values", () => {
    const api = container(d.get("apps/v1:Deployment", "api"));
    const env = Object.fromEntries((api.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      DATABASE_URL_FILE: "/run/secrets/database_url",
      REDIS_URL_FILE: "/run/secrets/redis_url",
      RABBITMQ_URL_FILE: "/run/secrets/rabbitmq_url",
      SECRET_KEY_FILE: "/run/secrets/secret_key",
      SENTRY_DSN_FILE: "/run/secrets/sentry_dsn",
      INSTANCE_NAME: { fieldRef: { fieldPath: "metadata.name" } },
    });
    expect(env).not.toHaveProperty("SMTP_PASSWORD_FILE"); // only the worker sends mail
    const worker = container(d.get("apps/v1:Deployment", "worker"));
    const workerEnv = Object.fromEntries((worker.env as Obj[]).map((e) => [e.name, e.value]));
    expect(workerEnv).toMatchObject({ SMTP_PASSWORD_FILE: "/run/secrets/smtp_password" });
    expect(workerEnv).not.toHaveProperty("SECRET_KEY_FILE"); // only the API signs tokens
    for (const name of [
      "DATABASE_URL",
      "REDIS_URL",
      "RABBITMQ_URL",
      "SECRET_KEY",
      "SMTP_PASSWORD",
      "SENTRY_DSN",
    ])
      expect(env).not.toHaveProperty(name);
    const volume = podSpec(d.get("apps/v1:Deployment", "api")).volumes.find((v: Obj) => v.name === "secrets");
    expect(volume.projected.defaultMode).toBe(0o440);
    expect(volume.projected.sources[0].secret.items.map((i: Obj) => i.key)).toEqual(
      expect.arrayContaining(["database_url", "redis_url", "rabbitmq_url", "secret_key"]),
    );
    expect(api.volumeMounts).toContainEqual({ name: "secrets", mountPath: "/run/secrets", readOnly: true });
    // The app Secret's values are Pulumi secrets.
    const secret = d.of("core/v1:Secret")[0]!;
    expect(
      isSecretInput(secret.inputs.stringData) ||
        Object.values(secret.inputs.stringData as Obj).every(isSecretInput),
    ).toBe(true);
  });

  it("never puts a secret value into any input other than the Secret object", () => {
    expect(d.secretValues.length).toBeGreaterThanOrEqual(7);
    for (const r of d.resources) {
      if (r.type === "kubernetes:core/v1:Secret" || r.type.startsWith("random:")) continue;
      const text = JSON.stringify(plain(r.inputs));
      for (const value of d.secretValues)
        expect(text, `${r.type} ${r.name} leaks a secret`).not.toContain(value);
    }
  });

  it("creates the API only after the migration and admin bootstrap Jobs (and those after PostgreSQL)", () => {
    const deps = (type: string, name: string) =>
      d.resources.find((r) => r.type === `kubernetes:${type}` && r.name === `chatapi-prod-${name}`)!
        .dependencies;
    expect(deps("apps/v1:Deployment", "api")).toEqual(
      expect.arrayContaining([
        "chatapi-prod-migrate",
        "chatapi-prod-bootstrap-admin",
        "chatapi-prod-postgres",
        "chatapi-prod-redis",
        "chatapi-prod-rabbitmq",
      ]),
    );
    expect(deps("apps/v1:Deployment", "worker")).toContain("chatapi-prod-migrate");
    expect(deps("batch/v1:Job", "bootstrap-admin")).toContain("chatapi-prod-migrate");
    expect(deps("batch/v1:Job", "migrate")).toContain("chatapi-prod-postgres");
    expect(deps("batch/v1:Job", "migrate")).not.toContain("chatapi-prod-api");
    expect(deps("apps/v1:Deployment", "nginx")).toContain("chatapi-prod-api");
    const job = d.get("batch/v1:Job", "migrate");
    expect(job.spec).toMatchObject({ backoffLimit: 3, template: { spec: { restartPolicy: "Never" } } });
    expect(container(job).args).toEqual(["migrate"]);
    const bootstrap = container(d.get("batch/v1:Job", "bootstrap-admin"));
    expect(bootstrap.args.slice(0, 7)).toEqual([
      "create-client",
      "--name",
      "Admin",
      "--email",
      "admin@chat.example.com",
      "--admin",
      "--api-key-file",
    ]);
    expect(bootstrap.args[bootstrap.args.indexOf("--id") + 1]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("PodDisruptionBudgets allow one pod of the API, workers and nginx down at a time", () => {
    for (const role of ["api", "worker", "nginx"]) {
      const pdb = d.get("policy/v1:PodDisruptionBudget", `${role}-pdb`);
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.selector.matchLabels).toEqual(
        d.get("apps/v1:Deployment", role).spec.selector.matchLabels,
      );
    }
  });

  it("data stores: StatefulSets with PVCs from config, Services named as the URLs' hosts", () => {
    const sizes = { postgres: "50Gi", redis: "5Gi", rabbitmq: "10Gi" };
    for (const [role, size] of Object.entries(sizes)) {
      const sts = d.get("apps/v1:StatefulSet", role);
      expect(sts.spec.serviceName).toBe(role);
      expect(sts.spec.replicas).toBe(1);
      expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: "Retain",
        whenScaled: "Retain",
      });
      expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: size } },
      });
      expect(d.get("core/v1:Service", `${role}-service`).metadata.name).toBe(role);
    }
    const postgres = container(d.get("apps/v1:StatefulSet", "postgres"));
    expect(postgres.readinessProbe.exec.command[0]).toBe("pg_isready");
    expect(postgres.env).toContainEqual({
      name: "POSTGRES_PASSWORD_FILE",
      value: "/run/secrets/postgres_password",
    });
    const rabbit = container(d.get("apps/v1:StatefulSet", "rabbitmq"));
    expect(rabbit.volumeMounts).toContainEqual({
      name: "secret-file-0",
      mountPath: "/etc/rabbitmq/conf.d/20-chatapi.conf",
      subPath: "20-chatapi.conf",
      readOnly: true,
    });
  });

  it("nginx: LoadBalancer Service keeping client addresses, config in an auto-named ConfigMap, TLS from cert-manager", () => {
    const svc = d.get("core/v1:Service", "nginx-service");
    expect(svc.spec).toMatchObject({ type: "LoadBalancer", externalTrafficPolicy: "Local" });
    expect(svc.spec.ports).toEqual([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
      { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
    ]);
    const config = d.get("core/v1:ConfigMap", "nginx-config");
    expect(config.metadata.name).toBeUndefined(); // auto-named: new content → new name → pods roll
    expect(config.data["nginx.conf"]).toContain(
      "chatapi-prod-api-headless.chatapi.svc.cluster.local:8000 resolve",
    );
    const pod = podSpec(d.get("apps/v1:Deployment", "nginx"));
    expect(pod.volumes.find((v: Obj) => v.name === "config").configMap.name).toMatch(
      /^chatapi-prod-nginx-config-[0-9a-f]{8}$/,
    );
    const sources = pod.volumes.find((v: Obj) => v.name === "secrets").projected.sources as Obj[];
    expect(sources.map((s) => s.secret.name)).toEqual(["chatapi-prod-tls"]);
    expect(sources[0]!.secret.items).toEqual([
      { key: "tls.crt", path: "tls_certificate" },
      { key: "tls.key", path: "tls_private_key" },
    ]);
    const headless = d.get("core/v1:Service", "api-headless");
    expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: false });
    const cert = d.get("cert-manager.io/v1:Certificate", "certificate");
    expect(cert.spec).toMatchObject({
      secretName: "chatapi-prod-tls",
      dnsNames: ["chat.example.com"],
      issuerRef: { name: "letsencrypt-prod", kind: "ClusterIssuer", group: "cert-manager.io" },
    });
  });

  it("NetworkPolicies: default deny, DNS, and exactly the needed flows", () => {
    const policies = d.of("networking.k8s.io/v1:NetworkPolicy").map((r) => plain(r.inputs) as Obj);
    const byName = (n: string) => policies.find((p) => p.metadata.name === `chatapi-prod-${n}`)!.spec;
    expect(byName("default-deny")).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(byName("allow-dns").egress[0].ports).toEqual([
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ]);
    const component = (role: string) => ({
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "chatapi",
          "app.kubernetes.io/instance": "prod",
          "app.kubernetes.io/component": role,
        },
      },
    });
    const postgres = byName("postgres");
    expect(postgres.podSelector).toEqual(component("postgres").podSelector);
    expect(postgres.policyTypes).toEqual(["Ingress"]);
    expect(
      postgres.ingress
        .map((r: Obj) => r.from[0].podSelector.matchLabels["app.kubernetes.io/component"])
        .sort(),
    ).toEqual(["api", "backup", "bootstrap-admin", "migrate", "worker"]);
    expect(new Set(postgres.ingress.map((r: Obj) => r.ports[0].port))).toEqual(new Set([5432]));
    const redis = byName("redis").ingress.map(
      (r: Obj) => r.from[0].podSelector.matchLabels["app.kubernetes.io/component"],
    );
    expect(redis.sort()).toEqual(["api", "worker"]);
    const api = byName("api");
    expect(api.ingress).toContainEqual({
      from: [component("nginx")],
      ports: [{ protocol: "TCP", port: 8000 }],
    });
    expect(api.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      ports: [{ protocol: "TCP", port: 8000 }],
    });
    expect(api.egress.map((r: Obj) => r.ports[0].port).sort()).toEqual([443, 5432, 5672, 6379]); // + Sentry
    const nginx = byName("nginx");
    expect(nginx.ingress).toEqual([
      {
        from: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
        ports: [
          { protocol: "TCP", port: 8080 },
          { protocol: "TCP", port: 8443 },
        ],
      },
    ]);
    expect(nginx.egress).toEqual([{ to: [component("api")], ports: [{ protocol: "TCP", port: 8000 }] }]);
    const worker = byName("worker").egress as Obj[];
    expect(worker).toContainEqual({
      to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
      ports: [{ protocol: "TCP", port: 587 }],
    });
    const backup = byName("backup");
    expect(backup.egress).toEqual([
      { to: [component("postgres")], ports: [{ protocol: "TCP", port: 5432 }] },
    ]);
    expect(backup.policyTypes).toEqual(["Egress"]);
  });

  it("backup CronJob: 0 2 * * * UTC, chatapi backup on its PVC, 30 days, Forbid, deadlines, history, TTL", () => {
    const cron = d.get("batch/v1:CronJob", "backup");
    expect(cron.spec).toMatchObject({
      schedule: "0 2 * * *",
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: { backoffLimit: 2, activeDeadlineSeconds: 14400, ttlSecondsAfterFinished: 604800 },
      },
    });
    const pod = cron.spec.jobTemplate.spec.template.spec as Obj;
    expect(pod.restartPolicy).toBe("Never");
    const c = pod.containers[0] as Obj;
    expect(c.args).toEqual(["backup"]);
    expect(c.env).toContainEqual({ name: "BACKUP_RETENTION_DAYS", value: "30" });
    expect(c.volumeMounts).toContainEqual({ name: "backups", mountPath: "/backups", readOnly: false });
    expect(pod.volumes).toContainEqual({
      name: "backups",
      persistentVolumeClaim: { claimName: "chatapi-prod-backups" },
    });
    expect(d.get("core/v1:PersistentVolumeClaim", "backups").spec.resources.requests.storage).toBe("50Gi");
  });

  it("exports no Docker host firewall and writes no firewall files (a cluster has NetworkPolicies)", () => {
    const renderDir = mkdtempSync(join(tmpdir(), "chatapi-k8s-render-"));
    try {
      const source = readStackFile(repoRoot, "prod");
      const result = runProgram({ stack: "nofw", ...source, projectDir: repoRoot, renderDir });
      expect(result.outputs.firewall).toBeUndefined();
      expect(readdirSync(renderDir)).toEqual([]);
    } finally {
      rmSync(renderDir, { recursive: true, force: true });
    }
    expect(d.result.outputs.caCertificate).toBeUndefined();
  });

  it("uses an explicit provider; a render folder and kubeconfig context come from config", async () => {
    const provider = d.resources.find(
      (r) => r.type === "pulumi:providers:kubernetes" && r.name === "chatapi-prod-cluster",
    )!;
    expect(plain(provider.inputs)).not.toHaveProperty("renderYamlToDirectory");
    const r = await deploy("prodrender", {
      "chatapi:kubernetes": JSON.stringify({
        namespace: "chatapi-render",
        renderYamlToDirectory: "out/k8s",
        context: "kind-chatapi",
        kubeconfig: "/etc/kube/config",
      }),
    });
    const rendered = r.resources.find((x) => x.type === "pulumi:providers:kubernetes")!;
    expect(plain(rendered.inputs)).toMatchObject({
      renderYamlToDirectory: "out/k8s",
      context: "kind-chatapi",
      kubeconfig: "/etc/kube/config",
    });
  });
});

describe("offline images: nginx 1.22 cannot re-resolve the API's headless Service", () => {
  let d: Deployed;
  beforeAll(async () => {
    d = await deploy("offline", {
      "chatapi:images": JSON.stringify({ preset: "offline" }),
      "chatapi:kubernetes": JSON.stringify({ namespace: "chatapi", imagePullPolicy: "Never" }),
    });
  });

  it("runs the upstream watcher beside nginx: same image and hardening, nginx's /tmp, one process namespace", () => {
    const deployment = d.get("apps/v1:Deployment", "nginx");
    const pod = podSpec(deployment);
    expect(pod.shareProcessNamespace).toBe(true); // to signal the nginx master
    expect(pod.containers.map((c: Obj) => c.name)).toEqual(["nginx", "upstream-watcher"]);
    const [nginx, watcher] = pod.containers as Obj[];
    expect(watcher).toMatchObject({
      image: "chatapi-local/nginx-unprivileged:1",
      imagePullPolicy: "Never",
      command: ["bash", "/etc/nginx/chatapi/watch-upstream.sh"],
      resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
    });
    expect(watcher!.securityContext).toEqual(nginx!.securityContext);
    expect(watcher!.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    // the pid file nginx writes is in its /tmp; the script comes from the nginx ConfigMap
    const tmp = (nginx!.volumeMounts as Obj[]).find((m) => m.mountPath === "/tmp")!;
    expect(watcher!.volumeMounts).toEqual([
      {
        name: "config",
        mountPath: "/etc/nginx/chatapi/watch-upstream.sh",
        subPath: "watch-upstream.sh",
        readOnly: true,
      },
      { name: tmp.name, mountPath: "/tmp" },
    ]);
    // probed by the age of the heartbeat it writes every round (the health-probes policy)
    const probe = {
      exec: {
        command: ["bash", "-c", "[ $(( $(date +%s) - $(stat -c %Y /tmp/upstream-watcher.alive) )) -lt 25 ]"],
      },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    };
    expect(watcher!.livenessProbe).toEqual(probe);
    expect(watcher!.readinessProbe).toEqual(probe);
    const items = pod.volumes.find((v: Obj) => v.name === "config").configMap.items as Obj[];
    expect(items.map((i) => i.key)).toContain("watch-upstream.sh");
  });

  it("renders a config nginx 1.22 loads, and the watcher script for the headless Service", () => {
    const config = d.get("core/v1:ConfigMap", "nginx-config");
    const conf = config.data["nginx.conf"] as string;
    expect(conf).not.toContain(" resolve ");
    expect(conf).toContain("server chatapi-offline-api-headless.chatapi.svc.cluster.local:8000 max_fails=3");
    expect(conf).toContain("hash $remote_addr;");
    expect(conf).not.toContain("consistent");
    expect(conf.match(/worker_shutdown_timeout 10s;/g)).toHaveLength(1);
    const script = config.data["watch-upstream.sh"] as string;
    expect(script).toContain("name=chatapi-offline-api-headless.chatapi.svc.cluster.local");
    expect(script).toContain("pidfile=/tmp/nginx.pid");
    expect(script).toContain("interval=5");
  });

  it("prod (nginx 1.28) re-resolves by itself: one container, no watcher", async () => {
    const prod = await deploy("prodwatch");
    expect(podSpec(prod.get("apps/v1:Deployment", "nginx")).containers).toHaveLength(1);
    expect(prod.get("core/v1:ConfigMap", "nginx-config").data["watch-upstream.sh"]).toBeUndefined();
  });
});

describe("a config that provides every secret and the TLS material", () => {
  let tls: TlsFixture;
  let d: Deployed;
  beforeAll(async () => {
    tls = makeCertificate("chat.example.com");
    d = await deploy(
      "prodcfg",
      {
        "chatapi:tls": JSON.stringify({ mode: "provided" }),
        "chatapi:admin": JSON.stringify({ clientId: "0b8f6d0e-4f6a-4c7e-9d43-2a3f5e6b7c8d" }),
        "chatapi:kubernetes": JSON.stringify({ namespace: "chatapi-cfg" }),
      },
      {
        "chatapi:postgresPassword": "PgPassword0123456789abcd",
        "chatapi:redisPassword": "RedisPassword0123456789ab",
        "chatapi:rabbitmqPassword": "RabbitPassword0123456789a",
        "chatapi:secretKey": "SecretKey0123456789abcdefghijklmnopqrstuvwxyz",
        "chatapi:adminApiKey": "AdminApiKey0123456789abcdefghijklmnop",
        "chatapi:tlsCertificate": tls.certificate,
        "chatapi:tlsPrivateKey": tls.privateKey,
      },
    );
  });

  it("creates no @pulumi/random or @pulumi/tls resource (the real engine has no such plugins here)", () => {
    const types = d.resources.map((r) => r.type);
    expect(types.filter((t) => t.startsWith("random:") || t.startsWith("tls:"))).toEqual([]);
    expect(types).toContain("kubernetes:apps/v1:Deployment");
  });

  it("puts the provided certificate into an auto-named kubernetes.io/tls Secret that nginx mounts", () => {
    const tlsSecret = d
      .of("core/v1:Secret")
      .map((r) => plain(r.inputs) as Obj)
      .find((s) => s.type === "kubernetes.io/tls")!;
    expect(tlsSecret.metadata.name).toBeUndefined();
    expect(tlsSecret.stringData["tls.crt"]).toBe(tls.certificate);
    const pod = podSpec(d.get("apps/v1:Deployment", "nginx"));
    const sources = pod.volumes.find((v: Obj) => v.name === "secrets").projected.sources as Obj[];
    expect(sources.map((s) => s.secret.name)).toEqual([
      expect.stringMatching(/^chatapi-prodcfg-tls-[0-9a-f]{8}$/),
    ]);
    expect(d.of("cert-manager.io/v1:Certificate")).toEqual([]);
  });

  it("keeps every config secret out of every non-Secret input", () => {
    for (const r of d.resources.filter((x) => x.type !== "kubernetes:core/v1:Secret")) {
      const text = JSON.stringify(plain(r.inputs));
      for (const value of d.secretValues) expect(text, r.name).not.toContain(value);
    }
  });
});

describe("Gateway API instead of nginx", () => {
  it("routes HTTPS to the API Service through a Gateway and answers ACME challenges through it", async () => {
    const d = await deploy("prodgw", {
      "chatapi:tls": JSON.stringify({ mode: "acme", acmeEmail: "ops@example.com" }),
      "chatapi:kubernetes": JSON.stringify({ namespace: "chatapi-gw", gatewayClassName: "eg" }),
    });
    expect(
      d
        .of("apps/v1:Deployment")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["chatapi-prodgw-api", "chatapi-prodgw-worker"]);
    const gw = d.get("gateway.networking.k8s.io/v1:Gateway", "gateway");
    expect(gw.spec.gatewayClassName).toBe("eg");
    expect(gw.spec.listeners[1]).toMatchObject({
      name: "https",
      port: 443,
      tls: { mode: "Terminate", certificateRefs: [{ name: "chatapi-prodgw-tls" }] },
    });
    const route = d.get("gateway.networking.k8s.io/v1:HTTPRoute", "api-route");
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: "chatapi-prodgw-api", port: 8000 }]);
    // Only what nginx serves: not "/" (that made /metrics and /health/ready public).
    const matches = route.spec.rules.flatMap((r: Obj) => r.matches.map((m: Obj) => m.path));
    expect(matches).toEqual([
      { type: "PathPrefix", value: "/api/v1" },
      { type: "Exact", value: "/health" },
      { type: "Exact", value: "/ws" },
    ]);
    // The WebSocket keeps nginx's long timeout (a gateway's default would cut it).
    expect(route.spec.rules[1].timeouts).toEqual({ request: "86400s", backendRequest: "86400s" });
    const issuer = d.get("cert-manager.io/v1:Issuer", "acme-issuer");
    expect(issuer.spec.acme).toMatchObject({
      email: "ops@example.com",
      server: "https://acme-v02.api.letsencrypt.org/directory",
    });
    expect(issuer.spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs[0]).toMatchObject({
      name: "chatapi-prodgw-gateway",
      sectionName: "http",
    });
    const policies = d.of("networking.k8s.io/v1:NetworkPolicy").map((r) => plain(r.inputs) as Obj);
    expect(policies.map((p) => p.metadata.name)).toContain("chatapi-prodgw-acme-http01-solver");
    const api = policies.find((p) => p.metadata.name === "chatapi-prodgw-api")!;
    expect(api.spec.ingress).toContainEqual({
      from: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
      ports: [{ protocol: "TCP", port: 8000 }],
    });
  });
});

describe("prod stack with the fan-out on an external Redis Cluster (fanoutCluster.mode external)", () => {
  // Made per run: no credential-looking literal in the repository.
  const password = randomBytes(18).toString("base64url");
  const nodes = ["redis-cluster-0.redis-cluster:6379", "redis-cluster-1.redis-cluster:6379"];
  let d: Deployed;
  beforeAll(async () => {
    d = await deploy(
      "prodfanout",
      { "chatapi:fanoutCluster": JSON.stringify({ mode: "external", nodes }) },
      { "chatapi:redisClusterPassword": password },
    );
  });

  it("gives the API the node list and the password as a mounted file; the worker neither", () => {
    const envOf = (name: string) =>
      Object.fromEntries(
        (container(d.get("apps/v1:Deployment", name)).env as Obj[]).map((e) => [e.name, e.value]),
      );
    expect(envOf("api")).toMatchObject({
      FANOUT_REDIS_CLUSTER_NODES: nodes.join(","),
      FANOUT_REDIS_CLUSTER_PASSWORD_FILE: "/run/secrets/redis_cluster_password",
      REDIS_URL_FILE: "/run/secrets/redis_url", // the stack's Redis keeps rate limits and presence
    });
    expect(envOf("worker")).not.toHaveProperty("FANOUT_REDIS_CLUSTER_NODES");
    expect(envOf("worker")).not.toHaveProperty("FANOUT_REDIS_CLUSTER_PASSWORD_FILE");
    const volume = podSpec(d.get("apps/v1:Deployment", "api")).volumes.find((v: Obj) => v.name === "secrets");
    expect(volume.projected.sources[0].secret.items.map((i: Obj) => i.key)).toContain(
      "redis_cluster_password",
    );
  });

  it("lets the API (only) reach the cluster's port outside the namespace", () => {
    const policies = d.of("networking.k8s.io/v1:NetworkPolicy").map((r) => plain(r.inputs) as Obj);
    const egress = (role: string) =>
      policies.find((p) => p.metadata.name === `chatapi-prodfanout-${role}`)!.spec.egress as Obj[];
    const outside = {
      to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
      ports: [{ protocol: "TCP", port: 6379 }],
    };
    expect(egress("api")).toContainEqual(outside);
    expect(egress("worker")).not.toContainEqual(outside);
  });

  it("keeps the password in the Secret object only, as a Pulumi secret", () => {
    const holders = d.resources.filter((r) => JSON.stringify(plain(r.inputs)).includes(password));
    expect(holders.map((r) => r.type)).toEqual(["kubernetes:core/v1:Secret"]);
    expect(isSecretInput(holders[0]!.inputs.stringData)).toBe(true);
  });
});

describe("prod stack with the fan-out's Redis Cluster in the stack (fanoutCluster.mode container)", () => {
  let d: Deployed;
  beforeAll(async () => {
    d = await deploy("prodcluster", { "chatapi:fanoutCluster": JSON.stringify({ mode: "container" }) });
  });

  it("runs the nodes as one StatefulSet: 6 pods started together, a claim each, behind a headless Service", () => {
    const sts = d.get("apps/v1:StatefulSet", "redis-cluster");
    expect(sts.spec).toMatchObject({
      replicas: 6,
      podManagementPolicy: "Parallel",
      serviceName: "redis-cluster",
    });
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe("redis-cluster-data");
    expect(sts.spec.volumeClaimTemplates[0].spec.resources).toEqual({ requests: { storage: "256Mi" } });
    // The claim template is the data volume: no emptyDir or shared claim of that name in the pod.
    expect(podSpec(sts).volumes.map((v: Obj) => v.name)).not.toContain("redis-cluster-data");
    expect(container(sts).volumeMounts).toContainEqual({
      name: "redis-cluster-data",
      mountPath: "/data",
      readOnly: false,
    });
    expect(container(sts).command ?? container(sts).args).toBeDefined();
    expect(container(sts).ports.map((p: Obj) => p.containerPort)).toEqual([6379, 16379]);
    const service = d.get("core/v1:Service", "redis-cluster-service");
    expect(service.metadata.name).toBe("redis-cluster");
    expect(service.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    // The stack's own Redis is still there, a ClusterIP Service as before.
    expect(d.get("core/v1:Service", "redis-service").spec.type).toBe("ClusterIP");
  });

  it("forms the cluster in a Job before the API, which is seeded with the Service's name", () => {
    const job = d.get("batch/v1:Job", "redis-cluster-init");
    expect(JSON.stringify(container(job))).toContain("--cluster-replicas 1 --cluster-yes");
    const api = d.get("apps/v1:Deployment", "api");
    const env = Object.fromEntries((container(api).env as Obj[]).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      FANOUT_REDIS_CLUSTER_NODES: "redis-cluster:6379",
      FANOUT_REDIS_CLUSTER_PASSWORD_FILE: "/run/secrets/redis_cluster_password",
    });
    const deps = (type: string, name: string) =>
      d.resources.find((r) => r.type === `kubernetes:${type}` && r.name === `chatapi-prodcluster-${name}`)!
        .dependencies;
    expect(deps("apps/v1:Deployment", "api")).toContain("chatapi-prodcluster-redis-cluster-init");
    expect(deps("batch/v1:Job", "redis-cluster-init")).toContain("chatapi-prodcluster-redis-cluster");
    expect(deps("apps/v1:Deployment", "worker")).not.toContain("chatapi-prodcluster-redis-cluster-init");
  });

  it("NetworkPolicies: the API, the job and the nodes reach the nodes, on 6379 and the bus", () => {
    const policies = d.of("networking.k8s.io/v1:NetworkPolicy").map((r) => plain(r.inputs) as Obj);
    const spec = policies.find((p) => p.metadata.name === "chatapi-prodcluster-redis-cluster")!.spec;
    const rules = (spec.ingress as Obj[]).map(
      (r) => `${r.from[0].podSelector.matchLabels["app.kubernetes.io/component"]}:${r.ports[0].port}`,
    );
    expect(rules.sort()).toEqual([
      "api:6379",
      "redis-cluster-init:6379",
      "redis-cluster:16379",
      "redis-cluster:6379",
    ]);
    const worker = policies.find((p) => p.metadata.name === "chatapi-prodcluster-worker")!.spec;
    expect(JSON.stringify(worker.egress)).not.toContain('"redis-cluster"');
  });

  it("keeps the generated password in the Secret object only, as a Pulumi secret", () => {
    const conf = d.resources.filter((r) => JSON.stringify(plain(r.inputs)).includes("masterauth"));
    expect(conf.map((r) => r.type)).toEqual(["kubernetes:core/v1:Secret"]);
    expect(isSecretInput(conf[0]!.inputs.stringData)).toBe(true);
  });
});
