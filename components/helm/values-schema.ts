// The JSON Schema of the chatapi chart's values (charts/chatapi/values.schema.json is written
// from this by `npm run docs:chart`): every value typed and bounded, unknown keys rejected, so
// `helm lint`/`install`/`template` refuse bad values with a message naming the value. Kubernetes
// types the chart passes through (affinity, tolerations, security contexts, ...) are the
// Kubernetes v1.33 definitions with unknown fields rejected, copied in by ./values-schema-file.ts.
// A value that is a stack config key in the Pulumi targets takes its limits (range, allowed
// values, pattern) from the stack config's schema (components/config/schema.ts), so the chart
// and the stacks accept the same values; the chart keeps its own descriptions.

import { configNode } from "../config/schema";
import { CLUSTER_NODE } from "../config/keys-processes";

/** A reference to a Kubernetes API definition (copied into the schema's $defs). */
export const k8sRef = (definition: string) => ({ $ref: `#/$defs/${definition}` });

const CORE = "io.k8s.api.core.v1";

export type Schema = Record<string, unknown>;

const object = (description: string, properties: Record<string, Schema>): Schema => ({
  type: "object",
  additionalProperties: false,
  description,
  properties,
});

const string = (description: string, extra: Schema = {}): Schema => ({
  type: "string",
  maxLength: 253,
  description,
  ...extra,
});

const integer = (description: string, minimum: number, maximum: number): Schema => ({
  type: "integer",
  minimum,
  maximum,
  description,
});

const boolean = (description: string): Schema => ({ type: "boolean", description });

/** The stack config key's node; `key` is its path, e.g. "app.logLevel". */
const stackKey = (key: string) => configNode(key.split("."));

/** An integer bounded as the stack config key is. */
const integerAs = (key: string, description: string): Schema =>
  integer(description, stackKey(key).minimum!, stackKey(key).maximum!);

/** One of the stack config key's values. */
const choiceAs = (key: string, description: string): Schema => ({
  type: "string",
  enum: stackKey(key).enum,
  description,
});

/** The stack config key's pattern; `optional`: empty allowed too (the chart's "not set"). */
const patternAs = (key: string, optional = false): string =>
  `${optional ? "^$|" : ""}${stackKey(key).pattern!}`;

const stringMap = (description: string): Schema => ({
  type: "object",
  description,
  maxProperties: 64,
  propertyNames: { maxLength: 253, pattern: "^([a-zA-Z0-9.-]+/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$" },
  additionalProperties: { type: "string", maxLength: 4096 },
});

const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/**
 * The name of a Secret. Anything else (a password pasted where its Secret's name belongs) is
 * rejected with a message that names the value's path and never repeats the value: a
 * `pattern` error would print it into the terminal or CI log.
 */
const secretName = (description: string): Schema => ({
  type: "string",
  maxLength: 253,
  description,
  if: { not: { pattern: `^$|${DNS_SUBDOMAIN}` } },
  then: { const: "the NAME of an existing Secret (a lower-case DNS name), never a secret value" },
});

const secretKey = (description: string, fallback: string): Schema => ({
  type: "string",
  minLength: 1,
  maxLength: 253,
  pattern: "^[-._a-zA-Z0-9]+$",
  description: `${description} (default ${fallback}).`,
});

const image = (what: string, tagDescription: string, allowEmptyTag = false): Schema =>
  object(`The ${what} image.`, {
    repository: string("Image repository (registry/name).", {
      minLength: 1,
      pattern: "^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
    }),
    tag: string(tagDescription, {
      maxLength: 128,
      pattern: allowEmptyTag ? "^$|^[A-Za-z0-9_][A-Za-z0-9_.-]*$" : "^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
      // A message that says why, instead of "'not' failed".
      if: { const: "latest" },
      then: { const: "a pinned version tag (latest changes under a running release)" },
    }),
    pullPolicy: choiceAs("kubernetes.imagePullPolicy", "When the kubelet pulls the image."),
  });

const cpu = {
  description: "A CPU quantity such as 500m, 0.5 or 2.",
  anyOf: [
    { type: "string", pattern: patternAs("api.cpu.limit") },
    { type: "number", exclusiveMinimum: 0, maximum: 1024 },
  ],
};
const memory = {
  description: "A memory quantity such as 512Mi or 2Gi.",
  type: "string",
  pattern: patternAs("api.memory.limit"),
};
const quantities = (what: string): Schema => ({
  type: "object",
  additionalProperties: false,
  required: ["cpu", "memory"],
  description: what,
  properties: { cpu, memory },
});

const resources = (who: string): Schema =>
  ({
    ...object(`CPU and memory of ${who}: requests (reserved) and limits (ceiling); both are required.`, {
      requests: quantities("Reserved CPU and memory."),
      limits: quantities("CPU and memory ceilings (the process is killed above the memory limit)."),
    }),
    required: ["requests", "limits"],
  }) as Schema;

/** A Kubernetes security context that never runs as root (uid 0). */
const nonRoot = (definition: string, description: string): Schema => ({
  description,
  allOf: [k8sRef(`${CORE}.${definition}`), { properties: { runAsUser: { minimum: 1 } } }],
});

const securityContexts = (who: string): Record<string, Schema> => ({
  podSecurityContext: nonRoot(
    "PodSecurityContext",
    `Pod securityContext of ${who}, merged over the chart-wide podSecurityContext (its uid, gid and fsGroup).`,
  ),
  containerSecurityContext: nonRoot(
    "SecurityContext",
    `Container securityContext of ${who}, merged over the chart-wide containerSecurityContext.`,
  ),
});

const placement = (who: string, spread: boolean): Record<string, Schema> => ({
  podAnnotations: stringMap(`Extra annotations on the pods of ${who}.`),
  nodeSelector: {
    type: "object",
    description: `Node labels the pods of ${who} must run on.`,
    additionalProperties: { type: "string", maxLength: 63 },
  },
  tolerations: {
    type: "array",
    maxItems: 32,
    items: k8sRef(`${CORE}.Toleration`),
    description: `Taints the pods of ${who} tolerate.`,
  },
  affinity: { ...k8sRef(`${CORE}.Affinity`), description: `Node and pod affinity of ${who}.` },
  ...(spread
    ? {
        topologySpreadConstraints: {
          type: "array",
          maxItems: 8,
          items: k8sRef(`${CORE}.TopologySpreadConstraint`),
          description: `How the pods of ${who} spread; empty: softly over nodes and zones (at 2+ replicas).`,
        },
      }
    : {}),
});

/**
 * `field` must be set when `when` is: the message names `field` and says why (helm lint does
 * not fail on a template's `fail`, so rules across values it must catch live here).
 */
const requiredWhen = (field: string, when: string, expected: string): Schema => ({
  if: { properties: { [when]: { minLength: 1 } }, required: [when] },
  then: { properties: { [field]: { if: { const: "" }, then: { const: expected } } } },
});

const withRules = (schema: Schema, rules: Schema[]): Schema => ({ ...schema, allOf: rules });

const replicaCount = (description: string): Schema => integerAs("api.replicas", description);

const pdb = (who: string): Schema =>
  object(`PodDisruptionBudget of ${who}.`, {
    enabled: boolean("Create the PodDisruptionBudget."),
    maxUnavailable: integerAs(
      "kubernetes.pdbMaxUnavailable",
      "Most pods evicted at once (node drains, upgrades).",
    ),
  });

const persistence = (what: string): Schema =>
  object(`The ${what} volume (a PersistentVolumeClaim).`, {
    size: { ...memory, description: "Size of the volume, e.g. 50Gi." },
    storageClass: string("StorageClass of the claim; empty: the cluster's default.", {
      pattern: `^$|${DNS_SUBDOMAIN}`,
    }),
  });

const storeService = (store: string, role: string): Schema =>
  object(`The ${store} Service.`, {
    name: string(
      `Service name, the host name in the connection URLs of the Secret; empty: <fullname>-${role}.`,
      { maxLength: 63, pattern: `^$|${DNS_LABEL}` },
    ),
  });

/**
 * HPA maxReplicas >= minReplicas, in plain JSON Schema (no $data in helm's validator): one
 * if/then per possible minimum, so the error names maxReplicas and the minimum it must reach.
 */
function maxAtLeastMin(min: number, max: number): Schema[] {
  const rules: Schema[] = [];
  for (let n = min + 1; n <= max; n++)
    rules.push({
      if: { properties: { minReplicas: { const: n } }, required: ["minReplicas"] },
      then: { properties: { maxReplicas: { minimum: n } } },
    });
  return rules;
}

const CRON =
  "^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9A-Za-z*/,?-]+( [0-9A-Za-z*/,?-]+){4})$";
const HOSTNAME = "^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$";
const EMAIL = "^$|^[^@\\s]+@[^@\\s]+$";
const CIDR = "^([0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$";
const UUID = "^$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

const autoscaling: Schema = {
  ...object("HorizontalPodAutoscaler (autoscaling/v2) of the API on CPU utilisation.", {
    enabled: boolean("Scale the API with an HPA (then api.replicaCount is not used)."),
    minReplicas: replicaCount("Fewest API pods."),
    maxReplicas: integerAs("api.autoscaling.maxReplicas", "Most API pods (at least minReplicas)."),
    targetCPUUtilizationPercentage: integerAs(
      "api.autoscaling.targetCpuUtilization",
      "Average CPU utilisation (% of the request) the HPA aims for.",
    ),
  }),
  allOf: maxAtLeastMin(stackKey("api.replicas").minimum!, stackKey("api.replicas").maximum!),
};

export const valuesSchema: Schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "chatapi chart values",
  type: "object",
  additionalProperties: false,
  properties: {
    // Helm hands a parent chart's `global` values to every subchart: without this property the
    // chart could not be a dependency of another chart (additionalProperties would refuse them).
    global: {
      type: "object",
      description:
        "Helm's global values, which a parent chart shares with its subcharts. This chart reads none; it accepts them so that it can be a subchart.",
    },
    nameOverride: string("Replaces the chart name in object names and the app.kubernetes.io/name label.", {
      maxLength: 40,
      pattern: `^$|${DNS_LABEL}`,
    }),
    fullnameOverride: string(
      'Full name of the objects (default: <release>-chatapi, or the release name when it contains "chatapi").',
      { maxLength: 40, pattern: `^$|${DNS_LABEL}` },
    ),
    domain: string("Public host name: nginx server_name, the certificate's name, the CORS origin, URLs.", {
      minLength: 1,
      pattern: HOSTNAME,
    }),
    environment: {
      type: "string",
      enum: ["production", "development"],
      description: "ENVIRONMENT of the app.",
    },
    clusterDomain: string("The cluster's DNS domain (in the API's headless Service name nginx resolves).", {
      minLength: 1,
      pattern: HOSTNAME,
    }),
    image: image(
      "app (API, workers, jobs, backups, helm test)",
      "Image tag; empty: the chart's appVersion.",
      true,
    ),
    imagePullSecrets: {
      type: "array",
      maxItems: 8,
      items: k8sRef(`${CORE}.LocalObjectReference`),
      description: "Secrets with registry credentials for every pod.",
    },
    config: object("Plain settings of the app (its environment).", {
      logLevel: choiceAs("app.logLevel", "LOG_LEVEL."),
      debug: boolean("DEBUG (never in production)."),
      projectName: string("PROJECT_NAME.", { minLength: 1, maxLength: 100 }),
      apiPrefix: string("API_V1_STR: path prefix of the REST API.", {
        pattern: "^(/[A-Za-z0-9._~-]+)+$",
        maxLength: 100,
      }),
      accessTokenExpireMinutes: integerAs("app.accessTokenExpireMinutes", "ACCESS_TOKEN_EXPIRE_MINUTES."),
      refreshTokenExpireDays: integerAs("app.refreshTokenExpireDays", "REFRESH_TOKEN_EXPIRE_DAYS."),
      databasePoolSize: integerAs(
        "app.databasePoolSize",
        "DATABASE_POOL_SIZE: connections each app process keeps.",
      ),
      databaseMaxOverflow: integerAs(
        "app.databaseMaxOverflow",
        "DATABASE_MAX_OVERFLOW: extra connections under load.",
      ),
      corsOrigins: {
        type: "array",
        maxItems: 32,
        items: { type: "string", pattern: "^https?://[^\\s/]+$", maxLength: 253 },
        description: "BACKEND_CORS_ORIGINS; empty: the HTTPS origin of domain.",
      },
    }),
    secrets: object("The Secret the chart reads keys from (it never creates one; README, Secrets).", {
      existingSecret: secretName(
        "Secret holding every key the sections below do not take from their own existingSecret; empty: <fullname>-secrets.",
      ),
    }),
    secretKey: object("SECRET_KEY, which signs access tokens.", {
      existingSecret: secretName("Secret with the key; empty: secrets.existingSecret."),
      key: secretKey("Key of SECRET_KEY in that Secret", "secret_key"),
    }),
    admin: object("The admin client the bootstrap hook registers (idempotent by e-mail).", {
      name: string("Its name.", { minLength: 1, maxLength: 100 }),
      email: string("Its e-mail; empty: admin@<domain>.", { pattern: EMAIL }),
      clientId: string("Fixed client id (a UUID); empty: the app chooses one.", { pattern: UUID }),
      existingSecret: secretName("Secret with its API key; empty: secrets.existingSecret."),
      apiKeyKey: secretKey("Key of the admin API key in that Secret", "admin_api_key"),
    }),
    smtp: withRules(
      object("Outgoing e-mail of the workers.", {
        host: string("SMTP server; empty: no e-mail is sent.", { pattern: `^$|${HOSTNAME}` }),
        port: integerAs("smtp.port", "SMTP port (the workers' NetworkPolicy allows it)."),
        user: string("SMTP user.", { maxLength: 253 }),
        from: string("Sender address; empty: noreply@<domain>.", { pattern: EMAIL }),
        existingSecret: secretName("Secret with the SMTP password; empty: no SMTP_PASSWORD_FILE."),
        passwordKey: secretKey("Key of the password in that Secret", "smtp_password"),
      }),
      [requiredWhen("host", "existingSecret", "an SMTP server, required when smtp.existingSecret is set")],
    ),
    sentry: object("Error reporting to Sentry.", {
      existingSecret: secretName("Secret with the Sentry DSN; empty: no Sentry (no SENTRY_DSN_FILE)."),
      dsnKey: secretKey("Key of the DSN in that Secret", "sentry_dsn"),
    }),
    serviceAccount: object("The pods' ServiceAccount (no API token is mounted).", {
      create: boolean("Create it."),
      name: string("Its name; empty: the full name (create) or default.", {
        maxLength: 253,
        pattern: `^$|${DNS_SUBDOMAIN}`,
      }),
      annotations: stringMap("Annotations (e.g. a cloud IAM role)."),
    }),
    podSecurityContext: nonRoot(
      "PodSecurityContext",
      "Pod securityContext of every pod (the restricted profile); components merge theirs over it.",
    ),
    containerSecurityContext: nonRoot(
      "SecurityContext",
      "Container securityContext of every container (the restricted profile); components merge theirs over it.",
    ),
    api: object("The API pods (REST + WebSocket).", {
      replicaCount: replicaCount("Pods when autoscaling is off (with autoscaling the HPA owns the count)."),
      autoscaling,
      resources: resources("an API pod"),
      pdb: pdb("the API"),
      logFile: object("Also log to a file.", {
        enabled: boolean("LOG_FILE=/app/logs/chatapi.log (10 MB x 5) on a per-pod volume."),
      }),
      ...securityContexts("the API"),
      ...placement("the API", true),
    }),
    worker: object("The background workers (RabbitMQ consumers: e-mail notifications).", {
      replicaCount: replicaCount("Worker pods."),
      resources: resources("a worker pod"),
      pdb: pdb("the workers"),
      ...securityContexts("the workers"),
      ...placement("the workers", true),
    }),
    jobs: object("The migration and admin bootstrap Jobs (hooks before the API rolls out).", {
      resources: resources("a Job pod"),
      ...securityContexts("the Jobs"),
      ...placement("the Jobs", false),
    }),
    nginx: object("The nginx load balancer: TLS, HTTP to HTTPS redirect, sticky WebSocket upstream.", {
      image: image("nginx (nginxinc/nginx-unprivileged contract: non-root, ports 8080/8443)", "Image tag."),
      version: string(
        "nginx version in the image (major.minor; picks config features); empty: from image.tag.",
        {
          maxLength: 8,
          pattern: patternAs("nginx.version", true),
        },
      ),
      replicaCount: replicaCount("nginx pods."),
      service: object("The Service clients reach nginx through.", {
        type: {
          type: "string",
          enum: ["LoadBalancer", "ClusterIP", "NodePort"],
          description: "Service type (LoadBalancer keeps client addresses: externalTrafficPolicy Local).",
        },
        httpPort: integerAs("nginx.httpPort", "HTTP port (redirects to HTTPS)."),
        httpsPort: integerAs("nginx.httpsPort", "HTTPS port."),
        annotations: stringMap("Annotations (e.g. cloud load balancer settings)."),
      }),
      resolver: string("DNS server nginx re-resolves the API pods with.", {
        minLength: 1,
        pattern: HOSTNAME,
      }),
      wsReadTimeoutSeconds: integerAs(
        "nginx.wsReadTimeoutSeconds",
        "proxy_read_timeout of /ws (idle WebSocket lifetime).",
      ),
      keepaliveTimeoutSeconds: integerAs(
        "nginx.keepaliveTimeoutSeconds",
        "keepalive_timeout of client connections (0: none).",
      ),
      clientMaxBodySize: string("Largest request body, e.g. 1m.", {
        maxLength: 10,
        pattern: patternAs("nginx.clientMaxBodySize"),
      }),
      hstsMaxAgeSeconds: integerAs("nginx.hstsMaxAgeSeconds", "Strict-Transport-Security max-age."),
      trustedProxies: {
        type: "array",
        maxItems: 64,
        items: { type: "string", pattern: CIDR, maxLength: 43 },
        description: "CIDRs of proxies in front of nginx whose X-Forwarded-For is trusted.",
      },
      resources: resources("an nginx pod"),
      pdb: pdb("nginx"),
      ...securityContexts("nginx"),
      ...placement("nginx", true),
    }),
    tls: object("The load balancer's certificate.", {
      existingSecret: secretName("kubernetes.io/tls Secret with tls.crt and tls.key; empty: <fullname>-tls."),
      certManager: object("A cert-manager Certificate that fills that Secret.", {
        enabled: boolean("Create the Certificate (cert-manager must be installed)."),
        issuerName: string("Name of the Issuer or ClusterIssuer that signs it.", {
          minLength: 1,
          pattern: DNS_SUBDOMAIN,
        }),
        issuerKind: choiceAs("tls.issuerKind", "Kind of that issuer."),
      }),
    }),
    postgresql: object("PostgreSQL.", {
      enabled: boolean("Run PostgreSQL in the release; false: an external one (only its URL is read)."),
      image: image("PostgreSQL (official postgres contract)", "Image tag."),
      auth: object("Database, role and the Secret keys.", {
        username: string("Role the app connects as.", { maxLength: 63, pattern: "^[a-z_][a-z0-9_]*$" }),
        database: string("Database name.", { maxLength: 63, pattern: "^[a-z_][a-z0-9_]*$" }),
        existingSecret: secretName("Secret with the password and URL; empty: secrets.existingSecret."),
        passwordKey: secretKey("Key of the role's password", "postgres_password"),
        databaseUrlKey: secretKey("Key of DATABASE_URL (postgresql://...)", "database_url"),
      }),
      service: storeService("PostgreSQL", "postgres"),
      persistence: persistence("PostgreSQL data"),
      resources: resources("PostgreSQL"),
      ...securityContexts("PostgreSQL"),
      ...placement("PostgreSQL", false),
    }),
    redis: object("Redis.", {
      enabled: boolean("Run Redis in the release; false: an external one (only its URL is read)."),
      image: image("Redis (official redis contract)", "Image tag."),
      auth: object("The Secret keys.", {
        existingSecret: secretName(
          "Secret with the password, URL and redis.conf; empty: secrets.existingSecret.",
        ),
        passwordKey: secretKey("Key of the requirepass password", "redis_password"),
        urlKey: secretKey("Key of REDIS_URL (redis://...)", "redis_url"),
        configKey: secretKey("Key of redis.conf (with requirepass and maxmemory)", "redis_conf"),
      }),
      fanoutCluster: object(
        "An external Redis 7 Cluster for the API's fan-out (sharded pub/sub); this Redis keeps rate limits and presence.",
        {
          nodes: {
            type: "array",
            maxItems: 64,
            items: { type: "string", pattern: CLUSTER_NODE, maxLength: 261 },
            description:
              "Some of its nodes as host:port (the rest are discovered); empty: the fan-out uses this Redis.",
          },
          existingSecret: secretName("Secret with the cluster's password; empty: the cluster has none."),
          passwordKey: secretKey("Key of the cluster's password", "redis_cluster_password"),
        },
      ),
      service: storeService("Redis", "redis"),
      persistence: persistence("Redis append-only file"),
      resources: resources("Redis"),
      ...securityContexts("Redis"),
      ...placement("Redis", false),
    }),
    rabbitmq: object("RabbitMQ.", {
      enabled: boolean("Run RabbitMQ in the release; false: an external one (only its URL is read)."),
      image: image("RabbitMQ (official rabbitmq contract)", "Image tag."),
      auth: object("The Secret keys.", {
        existingSecret: secretName("Secret with the URL and the conf.d file; empty: secrets.existingSecret."),
        urlKey: secretKey("Key of RABBITMQ_URL (amqp://...)", "rabbitmq_url"),
        configKey: secretKey(
          "Key of the conf.d file with default_user, default_pass, default_vhost",
          "rabbitmq_conf",
        ),
      }),
      service: storeService("RabbitMQ", "rabbitmq"),
      persistence: persistence("RabbitMQ data"),
      resources: resources("RabbitMQ"),
      ...securityContexts("RabbitMQ"),
      ...placement("RabbitMQ", false),
    }),
    backup: object("pg_dump backups (a CronJob): gzip, kept on a volume, optionally copied to S3.", {
      enabled: boolean("Run scheduled backups."),
      schedule: string("When they run (cron, UTC).", { maxLength: 100, pattern: CRON }),
      retentionDays: integerAs("backup.retentionDays", "Days a backup is kept."),
      format: choiceAs("backup.format", "pg_dump format."),
      persistence: persistence("backups"),
      s3: withRules(
        object("A copy of every backup in S3 (or an S3-compatible store).", {
          bucket: string("Bucket; empty: no copy.", {
            maxLength: 63,
            pattern: patternAs("backup.s3.bucket", true),
          }),
          prefix: string("Key prefix.", { maxLength: 200, pattern: "^[A-Za-z0-9!_.*'()/-]*$" }),
          endpoint: string("Endpoint URL of an S3-compatible store; empty: AWS.", {
            pattern: "^$|^https?://\\S+$",
          }),
          region: string("Region.", { maxLength: 40, pattern: patternAs("backup.s3.region", true) }),
          forcePathStyle: boolean("Path-style URLs (most S3-compatible stores)."),
          existingSecret: secretName(
            "Secret with the access key id and secret key; empty: the pod's own credentials.",
          ),
          accessKeyIdKey: secretKey("Key of the access key id", "backup_s3_access_key_id"),
          secretAccessKeyKey: secretKey("Key of the secret access key", "backup_s3_secret_access_key"),
        }),
        [requiredWhen("bucket", "existingSecret", "a bucket, required when backup.s3.existingSecret is set")],
      ),
      resources: resources("a backup pod"),
      ...securityContexts("the backups"),
      ...placement("the backups", false),
    }),
    metrics: object("Prometheus scraping of the API, workers and RabbitMQ.", {
      enabled: boolean(
        "prometheus.io/* annotations on those pods and a NetworkPolicy allow from metrics.namespace.",
      ),
      namespace: string("Namespace of the Prometheus that scrapes /metrics.", {
        minLength: 1,
        maxLength: 63,
        pattern: DNS_LABEL,
      }),
      annotations: stringMap("Extra annotations on the scraped pods."),
      prometheusOperator: object("The Prometheus Operator's objects (need its CRDs).", {
        enabled: boolean(
          'PodMonitors for the API, workers and RabbitMQ (job labels of the alert rules), the PrometheusRule and the Grafana dashboard ConfigMap (grafana_dashboard: "1").',
        ),
        labels: stringMap(
          "Extra labels on those objects, e.g. the release label your Prometheus selects on.",
        ),
      }),
    }),
    networkPolicy: object("NetworkPolicies.", {
      enabled: boolean("Deny all traffic of the release's pods but DNS and the flows the system needs."),
    }),
    tests: object("The `helm test` Job: GET /health through the load balancer Service over HTTPS.", {
      enabled: boolean("Render the test Job."),
      verifyTls: boolean("Check the certificate against domain (off for a self-signed one)."),
      caCertificate: string(
        "PEM CA certificate the test trusts when verifyTls is on (a private CA); empty: the image's public CAs.",
        { maxLength: 16384, pattern: "^$|^-----BEGIN CERTIFICATE-----" },
      ),
      resources: resources("the test pod"),
    }),
  },
};
