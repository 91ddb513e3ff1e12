// Rows of the config table (./schema.ts): how a stack is run and operated (TLS, backups, mail,
// the app's settings, the admin client, the Docker engine, the cluster, monitoring, the host
// firewall), each key with its schema, default per environment and meaning.
import {
  type DefaultsContext,
  type TableNode,
  byEnvironment,
  httpsOrigin,
  mailDomain,
  storage,
} from "./fragments";

export const operationKeys = {
  tls: {
    type: "object",
    additionalProperties: false,
    description: "TLS of the load balancer.",
    properties: {
      mode: {
        type: "string",
        enum: ["self-signed", "provided", "acme"],
        description:
          "self-signed: @pulumi/tls CA + server certificate; provided: chatapi:tlsCertificate/tlsPrivateKey secrets; acme: cert-manager (Kubernetes), certbot beside nginx (Docker).",
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
          "ACME account e-mail (acme mode: certbot's account on Docker; the Issuer the stack creates on Kubernetes).",
      },
      acmeServer: {
        type: "string",
        format: "uri",
        description:
          "ACME directory URL (acme mode: certbot on Docker; the Issuer the stack creates on Kubernetes).",
        default: "https://acme-v02.api.letsencrypt.org/directory",
      },
      acmeServerCa: {
        type: "string",
        pattern: "-----BEGIN CERTIFICATE-----",
        expected: "a PEM certificate",
        description:
          "Docker, acme mode: PEM CA certificate of a private ACME server's own HTTPS endpoint (step-ca, Pebble); unset: the system's CAs.",
      },
      acmeRenewCheckSeconds: {
        type: "integer",
        minimum: 10,
        maximum: 604800,
        description:
          "Docker, acme mode: how often certbot checks the certificate (`certbot renew`: renewed 30 days before it expires; a failed run is retried within 5 minutes).",
        default: 43200,
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
        description:
          "Docker engine address: ssh://user@host for a remote production host; tcp://host:2376 with chatapi:dockerCaCertificate, dockerClientCertificate and dockerClientKey (mutual TLS).",
        defaultDoc: {
          local: "`DOCKER_HOST`, else the current docker context, else `unix:///var/run/docker.sock`",
          production: "`DOCKER_HOST`, else the current docker context, else `unix:///var/run/docker.sock`",
        },
      },
      insecureTcp: {
        type: "boolean",
        description:
          "Allows a tcp:// engine without TLS (anyone who reaches its port controls the host): only for an engine on loopback or a private CI network. The policy pack flags it.",
        default: false,
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
  deploy: {
    type: "object",
    additionalProperties: false,
    description: "New app versions on a Docker host: releases swapped behind nginx (docs/DEPLOYS.md).",
    properties: {
      readyTimeoutSeconds: {
        type: "integer",
        minimum: 10,
        maximum: 1800,
        description:
          "How long a new release's containers may take to pass /health/ready before the deploy gives up and removes them (traffic never moved).",
        default: 120,
      },
      keepReleases: {
        type: "integer",
        minimum: 2,
        maximum: 20,
        description:
          "Releases remembered with their image and config (the live one included): what rollback can go back to.",
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
        description: "Namespace whose pods may scrape /metrics (NetworkPolicy ingress to the metrics ports).",
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
          "Docker: Prometheus (127.0.0.1 only) and exporters; Kubernetes: exporter sidecars, Pushgateway, blackbox exporter, PodMonitors, Probe, PrometheusRule (need the Prometheus Operator) and the dashboard ConfigMap.",
        default: false,
      },
      prometheusPort: {
        type: "integer",
        minimum: 1,
        maximum: 65535,
        description: "Docker: host port of Prometheus, published on 127.0.0.1 only.",
        default: 9090,
      },
      scrapeIntervalSeconds: {
        type: "integer",
        minimum: 1,
        maximum: 300,
        description: "Docker: how often Prometheus scrapes each target.",
        default: 10,
      },
      evaluationIntervalSeconds: {
        type: "integer",
        minimum: 1,
        maximum: 300,
        description: "Docker: how often Prometheus evaluates the alert rules.",
        default: 5,
      },
      retentionDays: {
        type: "integer",
        minimum: 1,
        maximum: 3650,
        description: "Docker: days of metrics Prometheus keeps on its volume.",
        default: 15,
      },
      alertmanager: {
        type: "object",
        additionalProperties: false,
        description:
          "Docker: an Alertmanager that Prometheus sends its alerts to (needs monitoring.enabled).",
        properties: {
          enabled: {
            type: "boolean",
            description:
              "Docker: run Alertmanager (127.0.0.1 only): mail through the stack's smtp.* to emailTo, and/or POST to chatapi:alertmanagerWebhookUrl.",
            default: false,
          },
          port: {
            type: "integer",
            minimum: 1,
            maximum: 65535,
            description: "Docker: host port of Alertmanager, published on 127.0.0.1 only.",
            default: 9093,
          },
          emailTo: {
            type: "array",
            items: { type: "string", format: "email" },
            uniqueItems: true,
            description:
              "Who gets the alert mails (sent through smtp.host as smtp.from, password chatapi:smtpPassword); empty = no mail.",
            default: [],
          },
          groupWaitSeconds: {
            type: "integer",
            minimum: 0,
            maximum: 3600,
            description:
              "How long Alertmanager waits for more alerts of a group before the first notification.",
            default: 30,
          },
          repeatIntervalHours: {
            type: "integer",
            minimum: 1,
            maximum: 168,
            description: "How often a still-firing alert is sent again.",
            default: 4,
          },
        },
      },
    },
  },
  firewall: {
    type: "object",
    additionalProperties: false,
    description: "The Docker host's firewall, applied by a container of the stack (host network, NET_ADMIN).",
    properties: {
      enabled: {
        type: "boolean",
        description:
          "Docker: apply the host firewall with the stack (from the external interface only SSH from sshAllowFrom, HTTP and HTTPS reach the host and its containers); removed with the stack.",
        default: (ctx: DefaultsContext) => ctx.environment === "production" && ctx.target === "docker",
      },
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
        description: "Host interface facing the internet: the firewall filters only what comes in on it.",
        default: "eth0",
      },
    },
  },
} as const satisfies Record<string, TableNode>;
