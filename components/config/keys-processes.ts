// Rows of the config table (./schema.ts): the images and the processes of a stack (API,
// workers, data stores, nginx), each key with its schema, default per environment and meaning.
import {
  type DefaultsContext,
  type TableNode,
  byEnvironment,
  imageRef,
  mode,
  presetImage,
  presetImages,
  replicas,
  resources,
  runAs,
  rabbitmqName,
  sqlIdentifier,
  storage,
} from "./fragments";

/** A Redis Cluster node as `host:port` (an IPv6 address in brackets); the chart's schema uses it too. */
export const CLUSTER_NODE = "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$";
export const processKeys = {
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
          doc: "= `images.appBaseImage` (offline: `chatapi-local/node:24-bookworm-build`)",
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
      ops: {
        ...imageRef,
        description:
          "Prebuilt image of a Docker host's certbot and firewall containers; when unset (and one of them runs) the stack builds components/ops/Dockerfile.",
      },
      opsBuildName: {
        ...imageRef,
        description:
          "Name given to the image built from components/ops/Dockerfile (Debian's certbot and iptables).",
        default: presetImage("opsBuildName"),
      },
      opsBaseImage: {
        ...imageRef,
        description: "BASE_IMAGE build argument of components/ops/Dockerfile (a Debian 12 image).",
        default: presetImage("opsBaseImage"),
      },
      prometheus: {
        ...imageRef,
        description: "Prometheus image (monitoring on Docker; prom/prometheus contract).",
        default: presetImage("prometheus"),
      },
      alertmanager: {
        ...imageRef,
        description:
          "Alertmanager image (monitoring.alertmanager.enabled, Docker; prom/alertmanager contract, 0.25 or newer).",
        default: presetImage("alertmanager"),
      },
      postgresExporter: {
        ...imageRef,
        description: "postgres_exporter image (monitoring.enabled).",
        default: presetImage("postgresExporter"),
      },
      redisExporter: {
        ...imageRef,
        description: "redis_exporter image (monitoring.enabled).",
        default: presetImage("redisExporter"),
      },
      nginxExporter: {
        ...imageRef,
        description: "nginx-prometheus-exporter image (monitoring.enabled).",
        default: presetImage("nginxExporter"),
      },
      blackboxExporter: {
        ...imageRef,
        description: "blackbox_exporter image: probes the public HTTPS endpoint (monitoring.enabled).",
        default: presetImage("blackboxExporter"),
      },
      nodeExporter: {
        ...imageRef,
        description: "node_exporter image (monitoring on Docker: the host's disk).",
        default: presetImage("nodeExporter"),
      },
      pushgateway: {
        ...imageRef,
        description: "Pushgateway image (monitoring on Kubernetes: the backup CronJob pushes its metrics).",
        default: presetImage("pushgateway"),
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
      database: { ...sqlIdentifier("Database name."), default: "chatapi" },
      user: { ...sqlIdentifier("Database role the app connects as."), default: "chatapi" },
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
  fanoutCluster: {
    type: "object",
    additionalProperties: false,
    description:
      "A Redis 7 Cluster for the API's fan-out: sharded pub/sub (SSUBSCRIBE/SPUBLISH), for when one Redis is the limit. The stack's Redis keeps rate limits and presence either way.",
    properties: {
      mode: {
        type: "string",
        enum: ["off", "container", "external"],
        description:
          "off: the fan-out uses the stack's Redis (classic pub/sub); container: a Redis Cluster in the stack (shards × (1 + replicasPerShard) nodes, formed by a one-shot job); external: an existing cluster, fanoutCluster.nodes, its password the secret chatapi:redisClusterPassword.",
        default: "off",
      },
      nodes: {
        type: "array",
        items: {
          type: "string",
          pattern: CLUSTER_NODE,
          expected: "host:port, such as redis-0.redis-cluster:6379",
        },
        description: "Nodes (a few suffice) of the external cluster (mode external).",
        default: [],
      },
      shards: {
        type: "integer",
        minimum: 3,
        maximum: 16,
        description:
          "Masters of the in-stack cluster (mode container); the 16,384 slots are spread over them.",
        default: 3,
      },
      replicasPerShard: {
        type: "integer",
        minimum: 0,
        maximum: 3,
        description:
          "Replicas of each master (mode container): one takes over when its master fails; 0 leaves a shard down until its master is back.",
        default: 1,
      },
      runAs: runAs("999:999"),
      ...resources({ request: "0.1", limit: "1" }, { request: "64Mi", limit: "256Mi" }, 128),
      ...storage(byEnvironment("64Mi", "256Mi")),
    },
  },
  rabbitmq: {
    type: "object",
    additionalProperties: false,
    description: "RabbitMQ.",
    properties: {
      mode: mode("RabbitMQ"),
      user: { ...rabbitmqName("RabbitMQ user the app connects as."), default: "chatapi" },
      vhost: { ...rabbitmqName("RabbitMQ virtual host."), default: "chatapi" },
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
      keepaliveTimeoutSeconds: {
        type: "integer",
        minimum: 0,
        maximum: 3600,
        description:
          "keepalive_timeout of client connections (0 closes each after its request). Behind a cloud load balancer, longer than its idle timeout (e.g. AWS ALB 60 s), or it meets connections nginx has just closed.",
        default: 65,
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
} as const satisfies Record<string, TableNode>;
