// A Kubernetes stack's plan (and its validated config) as values of charts/chatapi: the same
// deployment through Helm. The parity test renders the chart with these values and compares it
// with the Pulumi render of the stack; a value the chart cannot express throws, naming it. Pure.
import type { StackSettings } from "../config/types";
import { type RenderedManifests, renderRefs } from "../kubernetes/render/render-manifests";
import { bytesQuantity, cpuQuantity } from "../kubernetes/manifests/meta";
import { ids } from "../kubernetes/manifests/pod";
import { dataStoreHosts } from "../plan/secrets";
import type { DeploymentPlan, ImageKey, Role, SecretName, WorkloadPlan } from "../plan/types";
import { imageOf } from "../plan/images";

/** Chart values as plain data (validated against charts/chatapi/values.schema.json by the tests). */
export type ChartValues = Record<string, unknown>;

export class ChartValuesError extends Error {
  override name = "ChartValuesError";
}

/** registry/name:tag → { repository, tag } (the chart pins tags, not digests). */
export function splitImage(ref: string, what: string): { repository: string; tag: string } {
  if (ref.includes("@"))
    throw new ChartValuesError(`${what}: ${ref} is pinned by digest; the chart takes a repository and a tag`);
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon <= slash) throw new ChartValuesError(`${what}: ${ref} has no tag`);
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

const RESTRICTED = { readOnlyRootFilesystem: true, noNewPrivileges: true, drop: ["ALL"] };

function component(plan: DeploymentPlan, w: WorkloadPlan) {
  const { uid, gid } = ids(w);
  const s = w.security;
  if (
    s.readOnlyRootFilesystem !== RESTRICTED.readOnlyRootFilesystem ||
    s.noNewPrivileges !== RESTRICTED.noNewPrivileges ||
    s.addCapabilities.length > 0 ||
    s.dropCapabilities.join() !== RESTRICTED.drop.join()
  ) {
    throw new ChartValuesError(
      `${w.name}: its security settings differ from the restricted profile the chart's defaults encode`,
    );
  }
  const r = w.resources;
  return {
    resources: {
      requests: { cpu: cpuQuantity(r.cpu.requestMillis), memory: bytesQuantity(r.memory.requestBytes) },
      limits: { cpu: cpuQuantity(r.cpu.limitMillis), memory: bytesQuantity(r.memory.limitBytes) },
    },
    podSecurityContext: { runAsUser: uid, runAsGroup: gid, fsGroup: gid },
    containerSecurityContext: { runAsUser: uid, runAsGroup: gid },
  };
}

function image(plan: DeploymentPlan, key: ImageKey) {
  return {
    ...splitImage(imageOf(plan, key).ref, `images.${key}`),
    pullPolicy: plan.kubernetes.imagePullPolicy,
  };
}

function persistence(plan: DeploymentPlan, volumeName: string) {
  const volume = plan.volumes.find((v) => v.name === volumeName);
  if (!volume) throw new ChartValuesError(`the plan has no volume ${volumeName}`);
  return { size: bytesQuantity(volume.sizeBytes), storageClass: volume.storageClassName ?? "" };
}

function store(
  plan: DeploymentPlan,
  role: "postgres" | "redis" | "rabbitmq",
  workload: WorkloadPlan | undefined,
  auth: Record<string, unknown>,
) {
  if (!workload) return { enabled: false, auth };
  return {
    enabled: true,
    image: image(plan, role),
    auth,
    // The render's Services carry the plain host names of the connection URLs.
    service: { name: dataStoreHosts[role] },
    persistence: persistence(plan, `${role}-data`),
    ...component(plan, workload),
  };
}

/**
 * Chart values for a Kubernetes stack. Secrets are referenced by the names scripts/render uses
 * (its create-secrets.sh makes them), so the chart reads the very Secrets of a rendered stack.
 */
export function chartValuesFor(
  plan: DeploymentPlan,
  settings: StackSettings,
  refs: RenderedManifests["refs"] = renderRefs(plan),
): ChartValues {
  if (plan.target !== "kubernetes")
    throw new ChartValuesError(`stack ${plan.stack} targets ${plan.target}, not kubernetes`);
  if (plan.kubernetes.gatewayClassName)
    throw new ChartValuesError(
      "kubernetes.gatewayClassName: the chart runs the nginx load balancer; a Gateway API stack has no chart equivalent",
    );
  const byRole = (role: Role) => plan.workloads.find((w) => w.role === role);
  const need = (role: Role) => {
    const w = byRole(role);
    if (!w) throw new ChartValuesError(`the plan has no ${role} workload`);
    return w;
  };
  const has = (name: SecretName) => plan.secrets.some((s) => s.name === name);
  const api = need("api");
  const nginx = need("nginx");
  const backup = byRole("backup");
  const lb = plan.loadBalancer;
  if (lb.upstream.kind !== "dns")
    throw new ChartValuesError("the load balancer's upstream is not the API's DNS name");
  const clusterDomain = lb.upstream.name.slice(lb.upstream.name.indexOf(".svc.") + ".svc.".length);
  const tls = plan.tls;
  if (tls.mode === "acme" && !tls.issuer.existing)
    throw new ChartValuesError(
      "tls: an ACME Issuer the stack creates answers HTTP-01 through a Gateway; with the chart name an existing issuer (tls.issuerName)",
    );
  const adminClientId = refs.generated.admin_client_id;
  if (typeof adminClientId !== "string") throw new ChartValuesError("the admin client id is not a literal");
  const s = settings;

  return {
    domain: plan.domain,
    environment: s.environment === "production" ? "production" : "development",
    clusterDomain,
    image: image(plan, "app"),
    config: {
      logLevel: s.app.logLevel,
      debug: s.app.debug,
      projectName: s.app.projectName,
      apiPrefix: s.app.apiPrefix,
      accessTokenExpireMinutes: s.app.accessTokenExpireMinutes,
      refreshTokenExpireDays: s.app.refreshTokenExpireDays,
      databasePoolSize: s.app.databasePoolSize,
      databaseMaxOverflow: s.app.databaseMaxOverflow,
      corsOrigins: s.app.corsOrigins,
    },
    secrets: { existingSecret: refs.appSecret },
    admin: { name: plan.admin.name, email: plan.admin.email, clientId: adminClientId },
    smtp: {
      host: s.smtp.host ?? "",
      port: s.smtp.port,
      user: s.smtp.user ?? "",
      from: s.smtp.from,
      existingSecret: has("smtp_password") ? refs.appSecret : "",
    },
    sentry: { existingSecret: has("sentry_dsn") ? refs.appSecret : "" },
    api: {
      replicaCount: api.replicas,
      autoscaling: plan.autoscaling
        ? {
            enabled: true,
            minReplicas: plan.autoscaling.minReplicas,
            maxReplicas: plan.autoscaling.maxReplicas,
            targetCPUUtilizationPercentage: plan.autoscaling.targetCpuUtilization,
          }
        : { enabled: false },
      pdb: { enabled: true, maxUnavailable: plan.kubernetes.pdbMaxUnavailable },
      logFile: { enabled: "LOG_FILE" in api.env },
      ...component(plan, api),
    },
    worker: {
      replicaCount: need("worker").replicas,
      pdb: { enabled: true, maxUnavailable: plan.kubernetes.pdbMaxUnavailable },
      ...component(plan, need("worker")),
    },
    jobs: component(plan, need("migrate")),
    nginx: {
      image: image(plan, "nginx"),
      version: lb.nginxVersion,
      replicaCount: nginx.replicas,
      service: { type: plan.kubernetes.serviceType, httpPort: lb.public.http, httpsPort: lb.public.https },
      resolver: lb.upstream.resolver,
      wsReadTimeoutSeconds: lb.wsReadTimeoutSeconds,
      keepaliveTimeoutSeconds: lb.keepaliveTimeoutSeconds,
      clientMaxBodySize: lb.clientMaxBodySize,
      hstsMaxAgeSeconds: lb.hstsMaxAgeSeconds,
      trustedProxies: lb.trustedProxies,
      pdb: { enabled: true, maxUnavailable: plan.kubernetes.pdbMaxUnavailable },
      ...component(plan, nginx),
    },
    tls: {
      existingSecret: refs.tlsSecret,
      certManager:
        tls.mode === "acme"
          ? { enabled: true, issuerName: tls.issuer.name, issuerKind: tls.issuer.kind }
          : { enabled: false },
    },
    postgresql: store(plan, "postgres", byRole("postgres"), {
      username: s.postgres.user,
      database: s.postgres.database,
    }),
    redis: {
      ...store(plan, "redis", byRole("redis"), {}),
      fanoutCluster: {
        nodes: chartFanoutClusterNodes(s),
        existingSecret: has("redis_cluster_password") ? refs.appSecret : "",
      },
    },
    rabbitmq: store(plan, "rabbitmq", byRole("rabbitmq"), {}),
    backup: backup
      ? {
          enabled: true,
          schedule: plan.backup.schedule,
          retentionDays: plan.backup.retentionDays,
          format: plan.backup.format,
          persistence: persistence(plan, plan.backup.volume),
          s3: plan.backup.s3
            ? {
                bucket: plan.backup.s3.bucket,
                prefix: plan.backup.s3.prefix ?? "",
                endpoint: plan.backup.s3.endpoint ?? "",
                region: plan.backup.s3.region ?? "",
                forcePathStyle: plan.backup.s3.forcePathStyle,
                existingSecret: has("backup_s3_access_key_id") ? refs.appSecret : "",
              }
            : { bucket: "" },
          ...component(plan, backup),
        }
      : { enabled: false },
    metrics: { enabled: plan.kubernetes.prometheusScrape, namespace: plan.kubernetes.prometheusNamespace },
    networkPolicy: { enabled: true },
  };
}

/** The chart's fan-out cluster is an external one: it has no in-stack Redis Cluster. */
function chartFanoutClusterNodes(s: StackSettings): string[] {
  if (s.fanoutCluster.mode === "container")
    throw new Error(
      'fanoutCluster.mode "container" has no Helm chart form: the chart\'s fan-out cluster is an external one (fanoutCluster.mode external with fanoutCluster.nodes), or deploy with the Pulumi kubernetes target',
    );
  return s.fanoutCluster.mode === "external" ? s.fanoutCluster.nodes : [];
}
