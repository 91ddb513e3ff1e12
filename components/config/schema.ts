// Every stack config key under the `chatapi:` namespace, in one table: per key its JSON Schema
// (type and limits), its default per environment and its meaning. The settings type
// (./types.ts), the defaults (./defaults.ts), the validation (./validate.ts), the README's
// config table (./docs.ts) and the Helm chart's values schema all come from here.
// Top-level properties are Pulumi config keys (`chatapi:<key>`); nested objects are set with
// `pulumi config set --path chatapi:<key>.<nested> <value>`. Keys marked `secret: true` must
// be set with `pulumi config set --secret`; their values are never printed.
// `expected` is an annotation (registered with ajv) that says in words what a value must
// look like; error messages use it. `default` (./fragments.ts): a value, or a function of the
// stack's context; `derive`: a default that follows from other settings; `defaultDoc`: the
// README's wording where it is not the value; `generated`: a secret made when unset.
import {
  type DefaultsContext,
  type JsonSchemaNode,
  type TableNode,
  byEnvironment,
  generatedSecret,
  httpsOrigin,
  imageRef,
  mailDomain,
  mode,
  presetImage,
  presetImages,
  replicas,
  resources,
  runAs,
  secret,
  storage,
  urlSafeExpected,
  urlSafePassword,
} from "./fragments";

export const configTable = {
  type: "object",
  additionalProperties: false,
  required: ["target", "environment"],
  properties: {
    target: {
      type: "string",
      enum: ["docker", "kubernetes"],
      description: "Where the stack runs: a Docker engine or a Kubernetes cluster.",
      default: (ctx: DefaultsContext) => ctx.target,
    },
    environment: {
      type: "string",
      enum: ["local", "production"],
      description: "Which set of defaults applies (see the defaults columns).",
      default: (ctx: DefaultsContext) => ctx.environment,
    },
    domain: {
      type: "string",
      format: "hostname",
      description: "Public host name: nginx server_name, TLS certificate name, URLs.",
      // Production has no default: rules.ts asks for it.
      default: byEnvironment("localhost", ""),
      defaultDoc: { production: "required" },
    },
    images: {
      type: "object",
      additionalProperties: false,
      description: "Every image the stack runs.",
      properties: {
        preset: {
          type: "string",
          enum: ["upstream", "offline"],
          description:
            "upstream: official images (postgres, redis, rabbitmq, nginxinc/nginx-unprivileged, node); offline: the chatapi-local/* images built by scripts/images.",
          default: (ctx: DefaultsContext) => ctx.preset,
        },
        app: { ...imageRef, description: "Prebuilt app image; when unset the stack builds app/Dockerfile." },
        appBuildName: {
          ...imageRef,
          description: "Name given to the app image built from app/Dockerfile.",
          default: presetImage("appBuildName"),
        },
        appBaseImage: {
          ...imageRef,
          description: "BASE_IMAGE build argument of app/Dockerfile.",
          default: presetImage("appBaseImage"),
        },
        appBuildImage: {
          ...imageRef,
          description: "BUILD_IMAGE build argument of app/Dockerfile: the image of the stages that run npm.",
          default: presetImage("appBuildImage"),
          derive: {
            doc: "= `images.appBaseImage` (offline: `chatapi-local/node:20-bookworm-build`)",
            from: (s) => (s.images.preset === "upstream" ? s.images.appBaseImage : undefined),
          },
        },
        postgres: {
          ...imageRef,
          description: "PostgreSQL image (official postgres contract).",
          default: presetImage("postgres"),
        },
        redis: {
          ...imageRef,
          description: "Redis image (official redis contract).",
          default: presetImage("redis"),
        },
        rabbitmq: {
          ...imageRef,
          description: "RabbitMQ image (official rabbitmq contract).",
          default: presetImage("rabbitmq"),
        },
        nginx: {
          ...imageRef,
          description: "Non-root nginx image (nginxinc/nginx-unprivileged contract).",
          default: presetImage("nginx"),
        },
      },
    },
    api: {
      type: "object",
      additionalProperties: false,
      description: "The API instances (REST + WebSocket).",
      properties: {
        replicas: {
          ...replicas("Number of API instances (the HPA minimum when autoscaling)."),
          default: byEnvironment(2, 3),
        },
        ...resources({ request: "1", limit: "2" }, { request: "2Gi", limit: "4Gi" }, 512),
        autoscaling: {
          type: "object",
          additionalProperties: false,
          description: "HorizontalPodAutoscaler (Kubernetes only; Docker runs fixed replicas).",
          properties: {
            enabled: {
              type: "boolean",
              description: "Scale the API on CPU utilisation.",
              default: (ctx: DefaultsContext) =>
                ctx.environment === "production" && ctx.target === "kubernetes",
            },
            minReplicas: {
              ...replicas("Fewest API pods."),
              default: byEnvironment(2, 3),
              derive: { doc: "= `api.replicas`", from: (s) => s.api.replicas },
            },
            maxReplicas: {
              type: "integer",
              minimum: 1,
              maximum: 100,
              description: "Most API pods.",
              default: 10,
            },
            targetCpuUtilization: {
              type: "integer",
              minimum: 10,
              maximum: 95,
              description: "Average CPU utilisation (% of request) the HPA aims for.",
              default: 70,
            },
          },
        },
      },
    },
    worker: {
      type: "object",
      additionalProperties: false,
      description: "The background workers (RabbitMQ consumers).",
      properties: {
        replicas: { ...replicas("Number of worker processes."), default: byEnvironment(1, 2) },
        ...resources({ request: "0.5", limit: "1" }, { request: "1Gi", limit: "2Gi" }, 256),
      },
    },
    postgres: {
      type: "object",
      additionalProperties: false,
      description: "PostgreSQL.",
      properties: {
        mode: mode("PostgreSQL"),
        database: {
          type: "string",
          pattern: "^[a-z_][a-z0-9_]{0,62}$",
          expected: "a lower-case SQL identifier",
          description: "Database name.",
          default: "chatapi",
        },
        user: {
          type: "string",
          pattern: "^[a-z_][a-z0-9_]{0,62}$",
          expected: "a lower-case SQL identifier",
          description: "Database role the app connects as.",
          default: "chatapi",
        },
        runAs: runAs("999:999"),
        ...resources({ request: "0.5", limit: "2" }, { request: "1Gi", limit: "2Gi" }, 512),
        ...storage(byEnvironment("5Gi", "50Gi")),
      },
    },
    redis: {
      type: "object",
      additionalProperties: false,
      description: "Redis.",
      properties: {
        mode: mode("Redis"),
        runAs: runAs("999:999"),
        ...resources({ request: "0.25", limit: "1" }, { request: "256Mi", limit: "1Gi" }, 128),
        ...storage(byEnvironment("1Gi", "5Gi")),
      },
    },
    rabbitmq: {
      type: "object",
      additionalProperties: false,
      description: "RabbitMQ.",
      properties: {
        mode: mode("RabbitMQ"),
        user: {
          type: "string",
          pattern: "^[A-Za-z0-9_.-]{1,64}$",
          expected: "1 to 64 characters from A-Z a-z 0-9 _ . -",
          description: "RabbitMQ user the app connects as.",
          default: "chatapi",
        },
        vhost: {
          type: "string",
          pattern: "^[A-Za-z0-9_.-]{1,64}$",
          expected: "1 to 64 characters from A-Z a-z 0-9 _ . -",
          description: "RabbitMQ virtual host.",
          default: "chatapi",
        },
        runAs: runAs("999:999"),
        ...resources({ request: "0.5", limit: "1" }, { request: "512Mi", limit: "1Gi" }, 512),
        ...storage(byEnvironment("1Gi", "10Gi")),
      },
    },
    nginx: {
      type: "object",
      additionalProperties: false,
      description: "The nginx load balancer in front of the API.",
      properties: {
        replicas: {
          ...replicas("nginx pods (Kubernetes; the Docker host runs one)."),
          default: byEnvironment(1, 2),
        },
        version: {
          type: "string",
          pattern: "^1\\.[0-9]{1,2}$",
          expected: "the major.minor nginx version of the image, e.g. 1.28",
          description:
            "nginx version in the image; picks directive syntax (http2, upstream re-resolution from 1.27.3).",
          default: (ctx: DefaultsContext) => presetImages(ctx.preset, ctx.appVersion).nginxVersion,
        },
        httpPort: {
          type: "integer",
          minimum: 1,
          maximum: 65535,
          description: "Published HTTP port.",
          default: byEnvironment(8080, 80),
        },
        httpsPort: {
          type: "integer",
          minimum: 1,
          maximum: 65535,
          description: "Published HTTPS port.",
          default: byEnvironment(8443, 443),
        },
        publishAddress: {
          type: "string",
          format: "ipv4",
          description: "Host address the Docker target publishes nginx on.",
          default: byEnvironment("127.0.0.1", "0.0.0.0"),
        },
        wsReadTimeoutSeconds: {
          type: "integer",
          minimum: 60,
          maximum: 604800,
          description: "proxy_read_timeout of /ws (idle WebSocket lifetime).",
          default: 86400,
        },
        clientMaxBodySize: {
          type: "string",
          pattern: "^[0-9]+[km]?$",
          expected: "an nginx size such as 1m or 512k",
          description: "Largest request body nginx accepts.",
          default: "1m",
        },
        hstsMaxAgeSeconds: {
          type: "integer",
          minimum: 0,
          maximum: 63072000,
          description: "Strict-Transport-Security max-age.",
          // Two years in production (Mozilla); five minutes locally so a developer's browser does
          // not pin localhost to HTTPS for long.
          default: byEnvironment(300, 63072000),
        },
        trustedProxies: {
          type: "array",
          items: { type: "string", format: "cidr", expected: "a CIDR such as 10.0.0.0/8" },
          description:
            "Proxies in front of nginx whose X-Forwarded-For is trusted (real client address for sticky hashing).",
          default: [],
        },
        runAs: runAs("101:101"),
        ...resources({ request: "0.25", limit: "1" }, { request: "128Mi", limit: "256Mi" }, 256),
      },
    },
    tls: {
      type: "object",
      additionalProperties: false,
      description: "TLS of the load balancer.",
      properties: {
        mode: {
          type: "string",
          enum: ["self-signed", "provided", "acme"],
          description:
            "self-signed: @pulumi/tls CA + server certificate; provided: chatapi:tlsCertificate/tlsPrivateKey secrets; acme: cert-manager (Kubernetes).",
          default: byEnvironment("self-signed", "provided"),
        },
        selfSignedValidityDays: {
          type: "integer",
          minimum: 1,
          maximum: 825,
          description: "Validity of the self-signed server certificate.",
          default: 365,
        },
        acmeEmail: {
          type: "string",
          format: "email",
          description:
            "ACME account e-mail of the Issuer the stack creates (acme mode without tls.issuerName).",
        },
        acmeServer: {
          type: "string",
          format: "uri",
          description:
            "ACME directory URL of the Issuer the stack creates (acme mode without tls.issuerName).",
          default: "https://acme-v02.api.letsencrypt.org/directory",
        },
        issuerName: {
          type: "string",
          pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
          expected: "the name of a cert-manager Issuer or ClusterIssuer",
          description:
            "acme mode: an existing cert-manager issuer that signs the certificate (e.g. a DNS-01 ClusterIssuer); unset: the stack creates an ACME Issuer solved over HTTP-01 through its Gateway.",
        },
        issuerKind: {
          type: "string",
          enum: ["ClusterIssuer", "Issuer"],
          description: "Kind of tls.issuerName (an Issuer must live in the stack's namespace).",
          default: "ClusterIssuer",
        },
      },
    },
    backup: {
      type: "object",
      additionalProperties: false,
      description: "Scheduled pg_dump backups.",
      properties: {
        enabled: { type: "boolean", description: "Run scheduled backups.", default: true },
        schedule: {
          type: "string",
          format: "cron",
          expected: 'a 5-field cron expression such as "0 2 * * *"',
          description: "When backups run (cron, UTC).",
          default: "0 2 * * *",
        },
        retentionDays: {
          type: "integer",
          minimum: 1,
          maximum: 3650,
          description: "Backups older than this are deleted.",
          default: 30,
        },
        format: {
          type: "string",
          enum: ["plain-gz", "custom"],
          description: "pg_dump output format.",
          default: "plain-gz",
        },
        hostPath: {
          type: "string",
          pattern: "^/[^\\0]*$",
          expected: "an absolute path on the Docker host",
          description: "Docker host folder for backups (default: a named volume).",
        },
        ...storage(byEnvironment("5Gi", "50Gi")),
        s3: {
          type: "object",
          additionalProperties: false,
          required: ["bucket"],
          description: "Also upload each backup to S3 (keys: chatapi:backupS3AccessKeyId/SecretAccessKey).",
          properties: {
            bucket: {
              type: "string",
              pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
              expected: "an S3 bucket name",
              description: "Bucket name.",
            },
            prefix: { type: "string", description: "Key prefix." },
            endpoint: { type: "string", format: "uri", description: "S3-compatible endpoint URL." },
            region: { type: "string", pattern: "^[a-z0-9-]+$", description: "Region." },
            forcePathStyle: { type: "boolean", description: "Path-style addressing (MinIO and friends)." },
          },
        },
      },
    },
    smtp: {
      type: "object",
      additionalProperties: false,
      description: "Outgoing e-mail (workers).",
      properties: {
        host: { type: "string", format: "hostname", description: "SMTP server; unset = no e-mail." },
        port: { type: "integer", minimum: 1, maximum: 65535, description: "SMTP port.", default: 587 },
        user: { type: "string", minLength: 1, description: "SMTP user (password: chatapi:smtpPassword)." },
        from: {
          type: "string",
          format: "email",
          description: "EMAILS_FROM_EMAIL.",
          default: "",
          derive: {
            doc: "`noreply@<domain>` (`noreply@example.com` for localhost)",
            from: (s) => `noreply@${mailDomain(s.domain)}`,
          },
        },
      },
    },
    app: {
      type: "object",
      additionalProperties: false,
      description: "Settings of the chat service (its environment variables).",
      properties: {
        logLevel: {
          type: "string",
          enum: ["DEBUG", "INFO", "WARNING", "ERROR"],
          description: "LOG_LEVEL.",
          default: byEnvironment("DEBUG", "INFO"),
        },
        debug: { type: "boolean", description: "DEBUG.", default: byEnvironment(true, false) },
        projectName: {
          type: "string",
          minLength: 1,
          description: "PROJECT_NAME.",
          default: byEnvironment("ChatAPI", "ChatAPI Production"),
        },
        apiPrefix: {
          type: "string",
          pattern: "^/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$",
          expected: "a path such as /api/v1",
          description: "API_V1_STR.",
          default: "/api/v1",
        },
        accessTokenExpireMinutes: {
          type: "integer",
          minimum: 1,
          maximum: 1440,
          description: "ACCESS_TOKEN_EXPIRE_MINUTES.",
          default: 60,
        },
        refreshTokenExpireDays: {
          type: "integer",
          minimum: 1,
          maximum: 365,
          description: "REFRESH_TOKEN_EXPIRE_DAYS.",
          default: 30,
        },
        databasePoolSize: {
          type: "integer",
          minimum: 1,
          maximum: 200,
          description: "DATABASE_POOL_SIZE.",
          default: byEnvironment(5, 20),
        },
        databaseMaxOverflow: {
          type: "integer",
          minimum: 0,
          maximum: 200,
          description: "DATABASE_MAX_OVERFLOW.",
          default: byEnvironment(5, 30),
        },
        corsOrigins: {
          type: "array",
          items: { type: "string", format: "uri" },
          description: "BACKEND_CORS_ORIGINS (default: the stack's HTTPS origin).",
          default: [],
          derive: { doc: "the stack's HTTPS origin", from: (s) => [httpsOrigin(s)] },
        },
        logFile: {
          type: "boolean",
          description: "Also write LOG_FILE (/app/logs, 10 MB x 5) on a logs volume.",
          default: false,
        },
      },
    },
    admin: {
      type: "object",
      additionalProperties: false,
      description: "The admin client created by the bootstrap job.",
      properties: {
        name: { type: "string", minLength: 1, description: "Admin client name.", default: "Admin" },
        email: {
          type: "string",
          format: "email",
          description: "Admin client e-mail (the idempotency key).",
          default: "",
          derive: {
            doc: "`admin@<domain>` (`admin@example.com` for localhost)",
            from: (s) => `admin@${mailDomain(s.domain)}`,
          },
        },
        clientId: {
          type: "string",
          format: "uuid",
          description: "Fixed admin client id (default: generated by random.RandomUuid).",
        },
      },
    },
    docker: {
      type: "object",
      additionalProperties: false,
      description: "The Docker engine (docker target).",
      properties: {
        host: {
          type: "string",
          pattern: "^(unix|tcp|ssh|npipe)://.+",
          expected: "unix:///path, ssh://user@host or tcp://host:port",
          description: "Docker engine address; ssh://user@host for a remote production host.",
          default: "unix:///var/run/docker.sock",
        },
        sshOpts: {
          type: "array",
          items: { type: "string" },
          description: "Extra ssh options for an ssh:// host.",
          default: [],
        },
        logMaxSize: {
          type: "string",
          pattern: "^[0-9]+[kmg]$",
          expected: "a size such as 10m",
          description: "json-file log rotation: size of one file.",
          default: "10m",
        },
        logMaxFiles: {
          type: "integer",
          minimum: 1,
          maximum: 100,
          description: "json-file log rotation: files kept.",
          default: 5,
        },
      },
    },
    kubernetes: {
      type: "object",
      additionalProperties: false,
      description: "The cluster (kubernetes target).",
      properties: {
        namespace: {
          type: "string",
          pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
          not: { const: "default" },
          expected: "a DNS label other than default",
          description: "Namespace of every object (never default).",
          default: "chatapi",
        },
        storageClassName: {
          type: "string",
          minLength: 1,
          description: "Default StorageClass of the PVCs.",
        },
        gatewayClassName: {
          type: "string",
          minLength: 1,
          description:
            "Serve through a Gateway API Gateway of this GatewayClass (HTTPRoutes to the API) instead of the nginx load balancer.",
        },
        serviceType: {
          type: "string",
          enum: ["LoadBalancer", "NodePort", "ClusterIP"],
          description: "Type of the nginx Service clients reach.",
          default: "LoadBalancer",
        },
        imagePullPolicy: {
          type: "string",
          enum: ["IfNotPresent", "Always", "Never"],
          description: "imagePullPolicy of every container (Never: images imported into the nodes).",
          default: "IfNotPresent",
        },
        pdbMaxUnavailable: {
          type: "integer",
          minimum: 1,
          maximum: 10,
          description: "maxUnavailable of the PodDisruptionBudgets of the API, workers and nginx.",
          default: 1,
        },
        prometheusScrape: {
          type: "boolean",
          description: "prometheus.io/scrape, port and path annotations on pods that serve /metrics.",
          default: true,
        },
        prometheusNamespace: {
          type: "string",
          pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
          expected: "a namespace name",
          description:
            "Namespace whose pods may scrape /metrics (NetworkPolicy ingress to the metrics ports).",
          default: "monitoring",
        },
        context: {
          type: "string",
          minLength: 1,
          description: "kubeconfig context to deploy to (default: the kubeconfig's current context).",
        },
        kubeconfig: {
          type: "string",
          minLength: 1,
          description:
            "Path to the kubeconfig file, relative to the project root (default: $KUBECONFIG, then ~/.kube/config).",
        },
        renderYamlToDirectory: {
          type: "string",
          minLength: 1,
          description:
            "Render mode: the provider writes every object as YAML into this folder (relative to the project root) instead of deploying (no cluster needed).",
        },
      },
    },
    monitoring: {
      type: "object",
      additionalProperties: false,
      description: "Metrics collection and alerting.",
      properties: {
        enabled: {
          type: "boolean",
          description:
            "Prometheus and exporters, loopback only on Docker; ServiceMonitor/PrometheusRule on Kubernetes.",
          default: false,
        },
      },
    },
    firewall: {
      type: "object",
      additionalProperties: false,
      description: "Host firewall rules rendered for the Docker host (ufw + DOCKER-USER).",
      properties: {
        sshPort: {
          type: "integer",
          minimum: 1,
          maximum: 65535,
          description: "SSH port left open.",
          default: 22,
        },
        sshAllowFrom: {
          type: "array",
          minItems: 1,
          items: { type: "string", format: "cidr", expected: "a CIDR such as 203.0.113.0/24" },
          description: "Sources allowed to SSH in.",
          default: ["0.0.0.0/0"],
        },
        externalInterface: {
          type: "string",
          pattern: "^[A-Za-z0-9_.-]{1,15}$",
          expected: "a network interface name such as eth0",
          description: "Host interface facing the internet (DOCKER-USER filters traffic from it).",
          default: "eth0",
        },
      },
    },
    databaseUrl: secret(
      "External PostgreSQL URL (postgres.mode external).",
      "^postgres(ql)?://.+",
      "a postgresql:// URL",
    ),
    redisUrl: secret(
      "External Redis URL (redis.mode external).",
      "^rediss?://.+",
      "a redis:// or rediss:// URL",
    ),
    rabbitmqUrl: secret(
      "External RabbitMQ URL (rabbitmq.mode external).",
      "^amqps?://.+",
      "an amqp:// or amqps:// URL",
    ),
    postgresPassword: generatedSecret(
      "PostgreSQL password (default: generated).",
      urlSafePassword,
      urlSafeExpected,
    ),
    redisPassword: generatedSecret("Redis password (default: generated).", urlSafePassword, urlSafeExpected),
    rabbitmqPassword: generatedSecret(
      "RabbitMQ password (default: generated).",
      urlSafePassword,
      urlSafeExpected,
    ),
    secretKey: generatedSecret(
      "SECRET_KEY signing JWTs (default: generated, 64 characters).",
      "^.{32,}$",
      "32 characters or more",
    ),
    adminApiKey: generatedSecret(
      "API key registered for the admin client (default: generated).",
      "^[A-Za-z0-9._~-]{32,256}$",
      "32 to 256 characters from A-Z a-z 0-9 . _ ~ -",
    ),
    smtpPassword: secret("SMTP_PASSWORD."),
    sentryDsn: secret("SENTRY_DSN.", "^https?://.+", "an http(s):// DSN"),
    tlsCertificate: secret(
      "PEM certificate chain (server first) for tls.mode provided.",
      "-----BEGIN CERTIFICATE-----",
      "a PEM certificate chain",
    ),
    tlsPrivateKey: secret(
      "PEM private key of the certificate (tls.mode provided).",
      "-----BEGIN ([A-Z]+ )?PRIVATE KEY-----",
      "a PEM private key",
    ),
    backupS3AccessKeyId: secret("BACKUP_S3_ACCESS_KEY_ID."),
    backupS3SecretAccessKey: secret("BACKUP_S3_SECRET_ACCESS_KEY."),
  },
} as const satisfies TableNode;

/** The table's own keywords, which are not JSON Schema: left out of `configSchema`. */
const TABLE_KEYWORDS = new Set(["default", "derive", "defaultDoc", "generated"]);

function jsonSchemaOf(node: TableNode): JsonSchemaNode {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (TABLE_KEYWORDS.has(keyword)) continue;
    if (keyword === "properties")
      out[keyword] = Object.fromEntries(
        Object.entries(value as Record<string, TableNode>).map(([key, child]) => [key, jsonSchemaOf(child)]),
      );
    else if (keyword === "items") out[keyword] = jsonSchemaOf(value as TableNode);
    else out[keyword] = value;
  }
  return out as JsonSchemaNode;
}

/**
 * The JSON Schema of the stack config (the table without its defaults): what ajv validates
 * with, and what the Helm chart's values schema takes fragments from.
 */
export const configSchema = jsonSchemaOf(configTable);

/** The schema node of a key given as a path, e.g. ["app", "logLevel"]. */
export function configNode(path: readonly string[]): JsonSchemaNode {
  let node: JsonSchemaNode | undefined = configSchema;
  for (const key of path) node = node?.properties?.[key];
  if (!node) throw new Error(`the stack config has no key ${path.join(".")}`);
  return node;
}

/** Top-level keys whose values are secrets. */
export const secretConfigKeys = Object.entries(configTable.properties)
  .filter(([, schema]) => "secret" in schema && schema.secret === true)
  .map(([key]) => key) as SecretConfigKey[];

export type SecretConfigKey = {
  [K in keyof typeof configTable.properties]: (typeof configTable.properties)[K] extends { secret: true }
    ? K
    : never;
}[keyof typeof configTable.properties];
