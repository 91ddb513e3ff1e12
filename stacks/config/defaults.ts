// Per-environment defaults. A stack file only states what differs from these; the README's
// config table is generated from here and ./schema.ts (npm run docs:config).
import type { DeepPartial, Environment, ImagePreset, StackSettings, Target } from "./types";

export interface DefaultsContext {
  environment: Environment;
  target: Target;
  preset: ImagePreset;
  /** Version of app/package.json: the tag of the app image built from app/Dockerfile. */
  appVersion: string;
}

/** Image references and the nginx version inside the nginx image, per preset. */
export function presetImages(preset: ImagePreset, appVersion: string) {
  if (preset === "offline") {
    return {
      images: {
        appBuildName: `chatapi-local/chatapi:${appVersion}`,
        appBaseImage: "chatapi-local/node:24-bookworm",
        // Trusts this machine's extra CAs (a TLS-intercepting proxy) so npm reaches the registry.
        appBuildImage: "chatapi-local/node:24-bookworm-build",
        postgres: "chatapi-local/postgres:15",
        redis: "chatapi-local/redis:7",
        rabbitmq: "chatapi-local/rabbitmq:3",
        nginx: "chatapi-local/nginx-unprivileged:1",
      },
      nginxVersion: "1.22",
    };
  }
  return {
    images: {
      appBuildName: `chatapi:${appVersion}`,
      appBaseImage: "node:24-bookworm-slim",
      appBuildImage: "node:24-bookworm-slim", // = appBaseImage unless set (deriveDefaults)
      postgres: "postgres:15-bookworm",
      redis: "redis:7-bookworm",
      rabbitmq: "rabbitmq:3.13",
      nginx: "nginxinc/nginx-unprivileged:1.28",
    },
    nginxVersion: "1.28",
  };
}

/**
 * Every default for one environment/target/preset. Values that follow from other settings
 * (CORS origin, e-mail addresses, HPA minimum) are filled in by deriveDefaults afterwards.
 */
export function defaultsFor(ctx: DefaultsContext): StackSettings {
  const prod = ctx.environment === "production";
  const { images, nginxVersion } = presetImages(ctx.preset, ctx.appVersion);
  return {
    target: ctx.target,
    environment: ctx.environment,
    domain: prod ? "" : "localhost", // production has no default: rules.ts asks for it
    images: { preset: ctx.preset, ...images },
    api: {
      replicas: prod ? 3 : 2,
      cpu: { request: "1", limit: "2" },
      memory: { request: "2Gi", limit: "4Gi" },
      pidsLimit: 512,
      autoscaling: {
        enabled: prod && ctx.target === "kubernetes",
        minReplicas: prod ? 3 : 2,
        maxReplicas: 10,
        targetCpuUtilization: 70,
      },
    },
    worker: {
      replicas: prod ? 2 : 1,
      cpu: { request: "0.5", limit: "1" },
      memory: { request: "1Gi", limit: "2Gi" },
      pidsLimit: 256,
    },
    postgres: {
      mode: "container",
      database: "chatapi",
      user: "chatapi",
      runAs: "999:999",
      cpu: { request: "0.5", limit: "2" },
      memory: { request: "1Gi", limit: "2Gi" },
      pidsLimit: 512,
      storageSize: prod ? "50Gi" : "5Gi",
    },
    redis: {
      mode: "container",
      runAs: "999:999",
      cpu: { request: "0.25", limit: "1" },
      memory: { request: "256Mi", limit: "1Gi" },
      pidsLimit: 128,
      storageSize: prod ? "5Gi" : "1Gi",
    },
    rabbitmq: {
      mode: "container",
      user: "chatapi",
      vhost: "chatapi",
      runAs: "999:999",
      cpu: { request: "0.5", limit: "1" },
      memory: { request: "512Mi", limit: "1Gi" },
      pidsLimit: 512,
      storageSize: prod ? "10Gi" : "1Gi",
    },
    nginx: {
      replicas: prod ? 2 : 1,
      version: nginxVersion,
      httpPort: prod ? 80 : 8080,
      httpsPort: prod ? 443 : 8443,
      publishAddress: prod ? "0.0.0.0" : "127.0.0.1",
      wsReadTimeoutSeconds: 86400,
      clientMaxBodySize: "1m",
      // Two years in production (Mozilla); five minutes locally so a developer's browser does
      // not pin localhost to HTTPS for long.
      hstsMaxAgeSeconds: prod ? 63072000 : 300,
      trustedProxies: [],
      runAs: "101:101",
      cpu: { request: "0.25", limit: "1" },
      memory: { request: "128Mi", limit: "256Mi" },
      pidsLimit: 256,
    },
    tls: {
      mode: prod ? "provided" : "self-signed",
      selfSignedValidityDays: 365,
      acmeServer: "https://acme-v02.api.letsencrypt.org/directory",
      issuerKind: "ClusterIssuer",
    },
    backup: {
      enabled: true,
      schedule: "0 2 * * *",
      retentionDays: 30,
      format: "plain-gz",
      storageSize: prod ? "50Gi" : "5Gi",
    },
    smtp: { port: 587, from: "" },
    app: {
      logLevel: prod ? "INFO" : "DEBUG",
      debug: !prod,
      projectName: prod ? "ChatAPI Production" : "ChatAPI",
      apiPrefix: "/api/v1",
      accessTokenExpireMinutes: 60,
      refreshTokenExpireDays: 30,
      databasePoolSize: prod ? 20 : 5,
      databaseMaxOverflow: prod ? 30 : 5,
      corsOrigins: [],
      logFile: false,
    },
    admin: { name: "Admin", email: "" },
    docker: { host: "unix:///var/run/docker.sock", sshOpts: [], logMaxSize: "10m", logMaxFiles: 5 },
    kubernetes: {
      namespace: "chatapi",
      serviceType: "LoadBalancer",
      imagePullPolicy: "IfNotPresent",
      pdbMaxUnavailable: 1,
      prometheusScrape: true,
      prometheusNamespace: "monitoring",
    },
    firewall: { sshPort: 22, sshAllowFrom: ["0.0.0.0/0"], externalInterface: "eth0" },
  };
}

/** The HTTPS origin clients use: https://domain[:port]. */
export function httpsOrigin(settings: Pick<StackSettings, "domain" | "nginx">): string {
  const port = settings.nginx.httpsPort === 443 ? "" : `:${settings.nginx.httpsPort}`;
  return `https://${settings.domain}${port}`;
}

/** Mail domain for generated addresses: the stack's domain when it is a dotted name. */
function mailDomain(domain: string): string {
  return domain.includes(".") ? domain : "example.com";
}

/** Fills defaults that follow from other (possibly user-set) settings. */
export function deriveDefaults(settings: StackSettings, given: DeepPartial<StackSettings>): StackSettings {
  const out = structuredClone(settings);
  if (!given.app?.corsOrigins) out.app.corsOrigins = [httpsOrigin(out)];
  if (!given.smtp?.from) out.smtp.from = `noreply@${mailDomain(out.domain)}`;
  if (!given.admin?.email) out.admin.email = `admin@${mailDomain(out.domain)}`;
  if (!given.api?.autoscaling?.minReplicas) out.api.autoscaling.minReplicas = out.api.replicas;
  if (!given.images?.appBuildImage && out.images.preset === "upstream")
    out.images.appBuildImage = out.images.appBaseImage;
  return out;
}
