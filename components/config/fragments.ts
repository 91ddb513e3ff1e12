// Building blocks of the config table (./schema.ts): JSON Schema fragments used by several keys,
// and how a key states its default. A default is a value, the same everywhere, or a function
// of the stack's context (environment, target, image preset, app version); a `derive`d default
// follows from other settings and applies only when the key is not set.

export type Target = "docker" | "kubernetes";
export type Environment = "local" | "production";
export type ImagePreset = "upstream" | "offline";

export interface DefaultsContext {
  environment: Environment;
  target: Target;
  preset: ImagePreset;
  /** Version of app/package.json: the tag of the app image built from app/Dockerfile. */
  appVersion: string;
}

/** The settings a derived default may read (structural, so the table does not refer to its own type). */
export interface DerivableSettings {
  domain: string;
  nginx: { httpsPort: number };
  api: { replicas: number };
  images: { preset: string; appBaseImage: string };
}

export interface Derived {
  /** The default as the README's config table states it. */
  doc: string;
  /** The value; undefined keeps the key's own default. */
  from: (settings: DerivableSettings) => unknown;
}

/** A JSON Schema node (ajv's input; what error messages and docs read). */
export interface JsonSchemaNode {
  type?: string;
  enum?: readonly unknown[];
  description?: string;
  secret?: boolean;
  format?: string;
  pattern?: string;
  expected?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  required?: readonly string[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
}

/** A row of the config table: a JSON Schema node with its default and documentation. */
export interface TableNode {
  type?: string;
  description?: string;
  properties?: Record<string, TableNode>;
  items?: TableNode;
  /** A value, or a function of DefaultsContext. */
  default?: unknown;
  derive?: Derived;
  /** The README's default column where it is not the value (e.g. "required"). */
  defaultDoc?: Partial<Record<Environment, string>>;
  /** A secret the stack generates when it is not set. */
  generated?: boolean;
  [keyword: string]: unknown;
}

/** The value for local stacks, and the one for production stacks. */
export const byEnvironment =
  <L, P>(local: L, production: P) =>
  (ctx: DefaultsContext): L | P =>
    ctx.environment === "production" ? production : local;

/** The HTTPS origin clients use: https://domain[:port]. */
export function httpsOrigin(settings: { domain: string; nginx: { httpsPort: number } }): string {
  const port = settings.nginx.httpsPort === 443 ? "" : `:${settings.nginx.httpsPort}`;
  return `https://${settings.domain}${port}`;
}

/** Mail domain for generated addresses: the stack's domain when it is a dotted name. */
export const mailDomain = (domain: string): string => (domain.includes(".") ? domain : "example.com");

/** The monitoring part's images (monitoring.enabled): Prometheus, Alertmanager and the exporters. */
const upstreamMonitoringImages = {
  prometheus: "prom/prometheus:v2.53.4",
  alertmanager: "prom/alertmanager:v0.27.0",
  postgresExporter: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
  redisExporter: "oliver006/redis_exporter:v1.62.0-alpine",
  nginxExporter: "nginx/nginx-prometheus-exporter:1.3.0",
  blackboxExporter: "prom/blackbox-exporter:v0.25.0",
  nodeExporter: "prom/node-exporter:v1.8.2",
  pushgateway: "prom/pushgateway:v1.9.0",
};
const offlineMonitoringImages: typeof upstreamMonitoringImages = {
  prometheus: "chatapi-local/prometheus:2",
  alertmanager: "chatapi-local/alertmanager:0",
  postgresExporter: "chatapi-local/postgres-exporter:0",
  redisExporter: "chatapi-local/redis-exporter:1",
  nginxExporter: "chatapi-local/nginx-exporter:0",
  blackboxExporter: "chatapi-local/blackbox-exporter:0",
  nodeExporter: "chatapi-local/node-exporter:1",
  pushgateway: "chatapi-local/pushgateway:1",
};

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
        opsBuildName: `chatapi-local/chatapi-ops:${appVersion}`,
        opsBaseImage: "chatapi-local/debian:bookworm",
        ...offlineMonitoringImages,
      },
      nginxVersion: "1.22",
    };
  }
  return {
    images: {
      appBuildName: `chatapi:${appVersion}`,
      appBaseImage: "node:24-bookworm-slim",
      appBuildImage: "node:24-bookworm-slim", // = appBaseImage unless set (derived)
      postgres: "postgres:15-bookworm",
      redis: "redis:7-bookworm",
      rabbitmq: "rabbitmq:3.13",
      nginx: "nginxinc/nginx-unprivileged:1.28",
      opsBuildName: `chatapi-ops:${appVersion}`,
      opsBaseImage: "debian:bookworm-slim",
      ...upstreamMonitoringImages,
    },
    nginxVersion: "1.28",
  };
}

/** The preset's reference of one image. */
export const presetImage =
  (key: keyof ReturnType<typeof presetImages>["images"]) =>
  (ctx: DefaultsContext): string =>
    presetImages(ctx.preset, ctx.appVersion).images[key];

export const memory = {
  type: "string",
  pattern: "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$",
  expected: "a memory quantity such as 512Mi, 2Gi or 4G",
} as const;

export const cpu = {
  type: "string",
  pattern: "^([0-9]+(\\.[0-9]{1,3})?|[0-9]+m)$",
  expected: "a CPU quantity such as 0.5, 2 or 500m",
} as const;

/** cpu, memory and pidsLimit of a process, with its defaults. */
export const resources = (
  cpuDefault: { request: string; limit: string },
  memoryDefault: { request: string; limit: string },
  pidsLimit: number,
) =>
  ({
    cpu: {
      type: "object",
      additionalProperties: false,
      description: "CPU request (reserved) and limit (ceiling).",
      properties: {
        request: { ...cpu, description: "CPU reserved for the process.", default: cpuDefault.request },
        limit: { ...cpu, description: "CPU ceiling of the process.", default: cpuDefault.limit },
      },
    },
    memory: {
      type: "object",
      additionalProperties: false,
      description: "Memory request (reservation) and limit (hard ceiling).",
      properties: {
        request: {
          ...memory,
          description: "Memory reserved for the process.",
          default: memoryDefault.request,
        },
        limit: {
          ...memory,
          description: "Memory ceiling; the process is killed above it.",
          default: memoryDefault.limit,
        },
      },
    },
    pidsLimit: {
      type: "integer",
      minimum: 32,
      maximum: 65536,
      description: "Most processes/threads the container may run (fork-bomb guard).",
      default: pidsLimit,
    },
  }) as const;

export const sqlIdentifier = (description: string) =>
  ({
    type: "string",
    pattern: "^[a-z_][a-z0-9_]{0,62}$",
    expected: "a lower-case SQL identifier",
    description,
  }) as const;

/** A RabbitMQ user or virtual host name. */
export const rabbitmqName = (description: string) =>
  ({
    type: "string",
    pattern: "^[A-Za-z0-9_.-]{1,64}$",
    expected: "1 to 64 characters from A-Z a-z 0-9 _ . -",
    description,
  }) as const;

export const imageRef = {
  type: "string",
  format: "image-ref",
  expected: "an image reference with a pinned tag or digest, e.g. registry.example.com/chatapi:1.0.0",
} as const;

export const replicas = (description: string) =>
  ({ type: "integer", minimum: 1, maximum: 50, description }) as const;

/** storageSize (with its default) and storageClassName of a persistent volume. */
export const storage = <D>(storageSize: D) =>
  ({
    storageSize: {
      ...memory,
      description: "Size of the persistent volume (Kubernetes PVC).",
      default: storageSize,
    },
    storageClassName: {
      type: "string",
      minLength: 1,
      description: "StorageClass of the PVC (Kubernetes; cluster default when unset).",
    },
  }) as const;

export const runAs = (user: string) =>
  ({
    type: "string",
    pattern: "^[0-9]+:[0-9]+$",
    expected: "a numeric uid:gid such as 999:999 (not root)",
    description: "Numeric uid:gid the process runs as (the image's non-root user).",
    default: user,
  }) as const;

export const mode = (what: string) =>
  ({
    type: "string",
    enum: ["container", "external"],
    description: `container: run ${what} in the stack; external: use a managed service whose URL is a config secret.`,
    default: "container",
  }) as const;

/** A top-level key whose value is a Pulumi config secret; `generated`: made by the stack when unset. */
export const secret = (description: string, pattern?: string, expected?: string) =>
  ({
    type: "string",
    minLength: 1,
    secret: true,
    description,
    ...(pattern ? { pattern } : {}),
    ...(expected ? { expected } : {}),
  }) as const;

export const generatedSecret = (description: string, pattern: string, expected: string) =>
  ({ ...secret(description, pattern, expected), generated: true }) as const;

export const urlSafePassword = "^[A-Za-z0-9._~-]{16,128}$";
export const urlSafeExpected = "16 to 128 characters from A-Z a-z 0-9 . _ ~ -";
