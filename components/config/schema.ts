// The JSON Schema of every stack config key under the `chatapi:` namespace, in one place.
// Top-level properties are Pulumi config keys (`chatapi:<key>`); nested objects are set with
// `pulumi config set --path chatapi:<key>.<nested> <value>`. Keys marked `secret: true` must
// be set with `pulumi config set --secret`; their values are never printed.
// `expected` is an annotation (registered with ajv) that says in words what a value must
// look like; error messages use it. Defaults per environment live in ./defaults.ts.
import type { FromSchema } from "json-schema-to-ts";

const memory = {
  type: "string",
  pattern: "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$",
  expected: "a memory quantity such as 512Mi, 2Gi or 4G",
} as const;

const cpu = {
  type: "string",
  pattern: "^([0-9]+(\\.[0-9]{1,3})?|[0-9]+m)$",
  expected: "a CPU quantity such as 0.5, 2 or 500m",
} as const;

const resources = {
  cpu: {
    type: "object",
    additionalProperties: false,
    description: "CPU request (reserved) and limit (ceiling).",
    properties: {
      request: { ...cpu, description: "CPU reserved for the process." },
      limit: { ...cpu, description: "CPU ceiling of the process." },
    },
  },
  memory: {
    type: "object",
    additionalProperties: false,
    description: "Memory request (reservation) and limit (hard ceiling).",
    properties: {
      request: { ...memory, description: "Memory reserved for the process." },
      limit: { ...memory, description: "Memory ceiling; the process is killed above it." },
    },
  },
  pidsLimit: {
    type: "integer",
    minimum: 32,
    maximum: 65536,
    description: "Most processes/threads the container may run (fork-bomb guard).",
  },
} as const;

const imageRef = {
  type: "string",
  format: "image-ref",
  expected: "an image reference with a pinned tag or digest, e.g. registry.example.com/chatapi:1.0.0",
} as const;

const replicas = (description: string) =>
  ({ type: "integer", minimum: 1, maximum: 50, description }) as const;

const storage = {
  storageSize: { ...memory, description: "Size of the persistent volume (Kubernetes PVC)." },
  storageClassName: {
    type: "string",
    minLength: 1,
    description: "StorageClass of the PVC (Kubernetes; cluster default when unset).",
  },
} as const;

const runAs = {
  type: "string",
  pattern: "^[0-9]+:[0-9]+$",
  expected: "a numeric uid:gid such as 999:999 (not root)",
  description: "Numeric uid:gid the process runs as (the image's non-root user).",
} as const;

const mode = (what: string) =>
  ({
    type: "string",
    enum: ["container", "external"],
    description: `container: run ${what} in the stack; external: use a managed service whose URL is a config secret.`,
  }) as const;

const secret = (description: string, pattern?: string, expected?: string) =>
  ({
    type: "string",
    minLength: 1,
    secret: true,
    description,
    ...(pattern ? { pattern } : {}),
    ...(expected ? { expected } : {}),
  }) as const;

const urlSafePassword = "^[A-Za-z0-9._~-]{16,128}$";
const urlSafeExpected = "16 to 128 characters from A-Z a-z 0-9 . _ ~ -";

export const configSchema = {
  type: "object",
  additionalProperties: false,
  required: ["target", "environment"],
  properties: {
    target: {
      type: "string",
      enum: ["docker", "kubernetes"],
      description: "Where the stack runs: a Docker engine or a Kubernetes cluster.",
    },
    environment: {
      type: "string",
      enum: ["local", "production"],
      description: "Which set of defaults applies (see the defaults columns).",
    },
    domain: {
      type: "string",
      format: "hostname",
      description: "Public host name: nginx server_name, TLS certificate name, URLs.",
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
        },
        app: { ...imageRef, description: "Prebuilt app image; when unset the stack builds app/Dockerfile." },
        appBuildName: { ...imageRef, description: "Name given to the app image built from app/Dockerfile." },
        appBaseImage: { ...imageRef, description: "BASE_IMAGE build argument of app/Dockerfile." },
        appBuildImage: {
          ...imageRef,
          description: "BUILD_IMAGE build argument of app/Dockerfile: the image of the stages that run npm.",
        },
        postgres: { ...imageRef, description: "PostgreSQL image (official postgres contract)." },
        redis: { ...imageRef, description: "Redis image (official redis contract)." },
        rabbitmq: { ...imageRef, description: "RabbitMQ image (official rabbitmq contract)." },
        nginx: { ...imageRef, description: "Non-root nginx image (nginxinc/nginx-unprivileged contract)." },
      },
    },
    api: {
      type: "object",
      additionalProperties: false,
      description: "The API instances (REST + WebSocket).",
      properties: {
        replicas: replicas("Number of API instances (the HPA minimum when autoscaling)."),
        ...resources,
        autoscaling: {
          type: "object",
          additionalProperties: false,
          description: "HorizontalPodAutoscaler (Kubernetes only; Docker runs fixed replicas).",
          properties: {
            enabled: { type: "boolean", description: "Scale the API on CPU utilisation." },
            minReplicas: replicas("Fewest API pods."),
            maxReplicas: { type: "integer", minimum: 1, maximum: 100, description: "Most API pods." },
            targetCpuUtilization: {
              type: "integer",
              minimum: 10,
              maximum: 95,
              description: "Average CPU utilisation (% of request) the HPA aims for.",
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
        replicas: replicas("Number of worker processes."),
        ...resources,
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
        },
        user: {
          type: "string",
          pattern: "^[a-z_][a-z0-9_]{0,62}$",
          expected: "a lower-case SQL identifier",
          description: "Database role the app connects as.",
        },
        runAs,
        ...resources,
        ...storage,
      },
    },
    redis: {
      type: "object",
      additionalProperties: false,
      description: "Redis.",
      properties: { mode: mode("Redis"), runAs, ...resources, ...storage },
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
        },
        vhost: {
          type: "string",
          pattern: "^[A-Za-z0-9_.-]{1,64}$",
          expected: "1 to 64 characters from A-Z a-z 0-9 _ . -",
          description: "RabbitMQ virtual host.",
        },
        runAs,
        ...resources,
        ...storage,
      },
    },
    nginx: {
      type: "object",
      additionalProperties: false,
      description: "The nginx load balancer in front of the API.",
      properties: {
        replicas: replicas("nginx pods (Kubernetes; the Docker host runs one)."),
        version: {
          type: "string",
          pattern: "^1\\.[0-9]{1,2}$",
          expected: "the major.minor nginx version of the image, e.g. 1.28",
          description:
            "nginx version in the image; picks directive syntax (http2, upstream re-resolution from 1.27.3).",
        },
        httpPort: { type: "integer", minimum: 1, maximum: 65535, description: "Published HTTP port." },
        httpsPort: { type: "integer", minimum: 1, maximum: 65535, description: "Published HTTPS port." },
        publishAddress: {
          type: "string",
          format: "ipv4",
          description: "Host address the Docker target publishes nginx on.",
        },
        wsReadTimeoutSeconds: {
          type: "integer",
          minimum: 60,
          maximum: 604800,
          description: "proxy_read_timeout of /ws (idle WebSocket lifetime).",
        },
        clientMaxBodySize: {
          type: "string",
          pattern: "^[0-9]+[km]?$",
          expected: "an nginx size such as 1m or 512k",
          description: "Largest request body nginx accepts.",
        },
        hstsMaxAgeSeconds: {
          type: "integer",
          minimum: 0,
          maximum: 63072000,
          description: "Strict-Transport-Security max-age.",
        },
        trustedProxies: {
          type: "array",
          items: { type: "string", format: "cidr", expected: "a CIDR such as 10.0.0.0/8" },
          description:
            "Proxies in front of nginx whose X-Forwarded-For is trusted (real client address for sticky hashing).",
        },
        runAs,
        ...resources,
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
        },
        selfSignedValidityDays: {
          type: "integer",
          minimum: 1,
          maximum: 825,
          description: "Validity of the self-signed server certificate.",
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
        },
      },
    },
    backup: {
      type: "object",
      additionalProperties: false,
      description: "Scheduled pg_dump backups.",
      properties: {
        enabled: { type: "boolean", description: "Run scheduled backups." },
        schedule: {
          type: "string",
          format: "cron",
          expected: 'a 5-field cron expression such as "0 2 * * *"',
          description: "When backups run (cron, UTC).",
        },
        retentionDays: {
          type: "integer",
          minimum: 1,
          maximum: 3650,
          description: "Backups older than this are deleted.",
        },
        format: { type: "string", enum: ["plain-gz", "custom"], description: "pg_dump output format." },
        hostPath: {
          type: "string",
          pattern: "^/[^\\0]*$",
          expected: "an absolute path on the Docker host",
          description: "Docker host folder for backups (default: a named volume).",
        },
        ...storage,
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
        port: { type: "integer", minimum: 1, maximum: 65535, description: "SMTP port." },
        user: { type: "string", minLength: 1, description: "SMTP user (password: chatapi:smtpPassword)." },
        from: { type: "string", format: "email", description: "EMAILS_FROM_EMAIL." },
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
        },
        debug: { type: "boolean", description: "DEBUG." },
        projectName: { type: "string", minLength: 1, description: "PROJECT_NAME." },
        apiPrefix: {
          type: "string",
          pattern: "^/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$",
          expected: "a path such as /api/v1",
          description: "API_V1_STR.",
        },
        accessTokenExpireMinutes: {
          type: "integer",
          minimum: 1,
          maximum: 1440,
          description: "ACCESS_TOKEN_EXPIRE_MINUTES.",
        },
        refreshTokenExpireDays: {
          type: "integer",
          minimum: 1,
          maximum: 365,
          description: "REFRESH_TOKEN_EXPIRE_DAYS.",
        },
        databasePoolSize: { type: "integer", minimum: 1, maximum: 200, description: "DATABASE_POOL_SIZE." },
        databaseMaxOverflow: {
          type: "integer",
          minimum: 0,
          maximum: 200,
          description: "DATABASE_MAX_OVERFLOW.",
        },
        corsOrigins: {
          type: "array",
          items: { type: "string", format: "uri" },
          description: "BACKEND_CORS_ORIGINS (default: the stack's HTTPS origin).",
        },
        logFile: {
          type: "boolean",
          description: "Also write LOG_FILE (/app/logs, 10 MB x 5) on a logs volume.",
        },
      },
    },
    admin: {
      type: "object",
      additionalProperties: false,
      description: "The admin client created by the bootstrap job.",
      properties: {
        name: { type: "string", minLength: 1, description: "Admin client name." },
        email: { type: "string", format: "email", description: "Admin client e-mail (the idempotency key)." },
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
        },
        sshOpts: {
          type: "array",
          items: { type: "string" },
          description: "Extra ssh options for an ssh:// host.",
        },
        logMaxSize: {
          type: "string",
          pattern: "^[0-9]+[kmg]$",
          expected: "a size such as 10m",
          description: "json-file log rotation: size of one file.",
        },
        logMaxFiles: {
          type: "integer",
          minimum: 1,
          maximum: 100,
          description: "json-file log rotation: files kept.",
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
        },
        imagePullPolicy: {
          type: "string",
          enum: ["IfNotPresent", "Always", "Never"],
          description: "imagePullPolicy of every container (Never: images imported into the nodes).",
        },
        pdbMaxUnavailable: {
          type: "integer",
          minimum: 1,
          maximum: 10,
          description: "maxUnavailable of the PodDisruptionBudgets of the API, workers and nginx.",
        },
        prometheusScrape: {
          type: "boolean",
          description: "prometheus.io/scrape, port and path annotations on pods that serve /metrics.",
        },
        prometheusNamespace: {
          type: "string",
          pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
          expected: "a namespace name",
          description:
            "Namespace whose pods may scrape /metrics (NetworkPolicy ingress to the metrics ports).",
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
    firewall: {
      type: "object",
      additionalProperties: false,
      description: "Host firewall rules rendered for the Docker host (ufw + DOCKER-USER).",
      properties: {
        sshPort: { type: "integer", minimum: 1, maximum: 65535, description: "SSH port left open." },
        sshAllowFrom: {
          type: "array",
          minItems: 1,
          items: { type: "string", format: "cidr", expected: "a CIDR such as 203.0.113.0/24" },
          description: "Sources allowed to SSH in.",
        },
        externalInterface: {
          type: "string",
          pattern: "^[A-Za-z0-9_.-]{1,15}$",
          expected: "a network interface name such as eth0",
          description: "Host interface facing the internet (DOCKER-USER filters traffic from it).",
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
    postgresPassword: secret("PostgreSQL password (default: generated).", urlSafePassword, urlSafeExpected),
    redisPassword: secret("Redis password (default: generated).", urlSafePassword, urlSafeExpected),
    rabbitmqPassword: secret("RabbitMQ password (default: generated).", urlSafePassword, urlSafeExpected),
    secretKey: secret(
      "SECRET_KEY signing JWTs (default: generated, 64 characters).",
      "^.{32,}$",
      "32 characters or more",
    ),
    adminApiKey: secret(
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
} as const;

/** The stack config as written (every key optional except target and environment). */
export type ConfigInput = FromSchema<typeof configSchema>;

/** Top-level keys whose values are secrets. */
export const secretConfigKeys = Object.entries(configSchema.properties)
  .filter(([, schema]) => "secret" in schema && schema.secret === true)
  .map(([key]) => key) as SecretConfigKey[];

export type SecretConfigKey = {
  [K in keyof typeof configSchema.properties]: (typeof configSchema.properties)[K] extends { secret: true }
    ? K
    : never;
}[keyof typeof configSchema.properties];
