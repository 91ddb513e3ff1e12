// The deployment plan: everything a target needs to create a stack, as plain data. Built
// once from the validated stack config (./build-plan.ts) and consumed by the Docker target,
// the Kubernetes target, the compose renderer and the policy pack. No Pulumi types, no
// secret values: secrets are referenced by name and resolved by the target.

/** Which process a workload runs. */
export type Role =
  | "postgres"
  | "redis"
  /** fanoutCluster.mode container: the fan-out's Redis Cluster nodes. */
  | "redis-cluster"
  /** fanoutCluster.mode container: forms that cluster (a one-shot job). */
  | "redis-cluster-init"
  | "rabbitmq"
  | "migrate"
  | "bootstrap-admin"
  | "api"
  | "worker"
  | "nginx"
  | "backup"
  /** Docker host, tls.mode acme: obtains and renews the certificate (certbot, HTTP-01 through nginx). */
  | "certbot"
  /** Docker host, firewall.enabled: applies the host firewall while it runs, removes it when stopped. */
  | "firewall"
  | MonitoringRole;

/** Roles only a Docker host has (a cluster has cert-manager and NetworkPolicies instead). */
export type DockerHostRole = "certbot" | "firewall";
export type KubernetesRole = Exclude<Role, DockerHostRole>;

/** The monitoring part (monitoring.enabled): Prometheus, the exporters, the Pushgateway. */
export type MonitoringRole =
  | "prometheus"
  /** Docker, monitoring.alertmanager.enabled: routes Prometheus's alerts to mail and a webhook. */
  | "alertmanager"
  | "postgres-exporter"
  | "redis-exporter"
  | "nginx-exporter"
  | "blackbox-exporter"
  | "node-exporter"
  | "pushgateway";

/** Images every stack runs. */
export type CoreImageKey = "app" | "postgres" | "redis" | "rabbitmq" | "nginx";
/** Images of the monitoring part: in the plan only when monitoring is on (config keys images.<key>). */
export type MonitoringImageKey =
  | "prometheus"
  | "alertmanager"
  | "postgresExporter"
  | "redisExporter"
  | "nginxExporter"
  | "blackboxExporter"
  | "nodeExporter"
  | "pushgateway";
/** "ops": Debian's certbot and iptables, planned only when a certbot or firewall container runs. */
export type ImageKey = CoreImageKey | "ops" | MonitoringImageKey;

export interface ImagePlan {
  /** The reference containers use (a pinned tag or digest). */
  ref: string;
  /** Pull it from its registry before use (false: it must already be on the engine). */
  pull: boolean;
  /** Build it instead of pulling (the app image from app/Dockerfile). */
  build?: {
    context: string;
    dockerfile: string;
    args: Record<string, string>;
    /** The base images named in args are pulled (upstream preset), else made by scripts/images. */
    pullBases: boolean;
  };
}

/** Names of the secrets a stack uses; each becomes the file /run/secrets/<name>. */
export type SecretName =
  | "database_url"
  | "redis_url"
  | "rabbitmq_url"
  | "postgres_password"
  | "redis_password"
  | "rabbitmq_password"
  | "redis_conf"
  /** The fan-out's Redis Cluster password (external, or the in-stack cluster's). */
  | "redis_cluster_password"
  /** The in-stack Redis Cluster nodes' redis.conf (with requirepass and masterauth). */
  | "redis_cluster_conf"
  | "rabbitmq_conf"
  | "secret_key"
  | "admin_api_key"
  | "smtp_password"
  | "sentry_dsn"
  | "backup_s3_access_key_id"
  | "backup_s3_secret_access_key"
  | "tls_certificate"
  | "tls_private_key"
  /** redis_exporter's password file: {"<redis address>": "<password>"}. */
  | "redis_exporter_passwords"
  /** Alertmanager's webhook receiver (chatapi:alertmanagerWebhookUrl). */
  | "alertmanager_webhook_url"
  /** Alertmanager's configuration when it holds the webhook URL. */
  | "alertmanager_config";

/** Where a secret's value comes from. */
export type SecretSource =
  /** A Pulumi config secret (chatapi:<key>). */
  | { kind: "config"; key: string }
  /** Generated (@pulumi/random RandomPassword: letters and digits only, URL-safe). */
  | { kind: "random"; length: number }
  /** Config secret when set, generated otherwise. */
  | { kind: "config-or-random"; key: string; length: number }
  /** Text assembled from literal parts and other secrets (URLs, config files). */
  | { kind: "template"; parts: TemplatePart[] }
  /** The load balancer's certificate chain / key: generated (self-signed) or from config. */
  | { kind: "tls"; part: "certificate" | "private-key" };

export type TemplatePart = string | { secret: SecretName };

export interface SecretPlan {
  name: SecretName;
  source: SecretSource;
  description: string;
}

/** Values generated at deploy time that are not secret (e.g. the admin client id). */
export type GeneratedValueName = "admin_client_id";

export interface GeneratedValuePlan {
  name: GeneratedValueName;
  /** A fixed value from config, or a random UUID (@pulumi/random RandomUuid). */
  source: { kind: "uuid" } | { kind: "fixed"; value: string };
}

/** One command-line argument: literal, or a generated value filled in by the target. */
export type CommandArg = string | { generated: GeneratedValueName };

/** A file placed in the container. */
export interface FilePlan {
  path: string;
  /** Secret content (mode 0400, owned by the workload's user) or plain text (0444). */
  source: { secret: SecretName } | { content: string };
  /** Environment variable that points the process at the file (e.g. DATABASE_URL_FILE). */
  env?: string;
  /**
   * The process re-reads this file by itself (Prometheus's file_sd targets): a deploy rewrites
   * it in place, and a change does not re-create the container where the engine can avoid it.
   */
  reread?: true;
}

export interface HealthCheckPlan {
  /** Exec form, run inside the container (Docker HEALTHCHECK; Kubernetes exec probe). */
  command: string[];
  /** The same check over HTTP, for orchestrators that probe from outside (Kubernetes). */
  http?: { path: string; port: number };
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface ResourcesPlan {
  cpu: { requestMillis: number; limitMillis: number };
  memory: { requestBytes: number; limitBytes: number };
  pidsLimit: number;
}

export interface SecurityPlan {
  /** Numeric uid:gid; never root. */
  user: string;
  readOnlyRootFilesystem: boolean;
  /** Always ["ALL"]. */
  dropCapabilities: string[];
  /** Capabilities added back (each with the reason in build-plan). Empty for every workload here. */
  addCapabilities: string[];
  noNewPrivileges: boolean;
}

export interface TmpfsPlan {
  path: string;
  sizeBytes: number;
}

export type NetworkName = "public" | "frontend" | "backend" | "egress" | "monitoring" | "fanout";

export interface NetworkPlan {
  name: NetworkName;
  /** chatapi-<stack>-<name> */
  resourceName: string;
  /** No route out of the host (Docker `internal: true`). */
  internal: boolean;
  /**
   * The host itself has no address on this network, so nothing on the host reaches its
   * containers (Docker: bridge option inhibit_ipv4). An internal bridge otherwise still gets
   * the gateway address, and any host process can connect to the data stores through it.
   */
  isolatedFromHost: boolean;
  purpose: string;
}

export interface NetworkAttachmentPlan {
  network: NetworkName;
  /** DNS names of this workload on that network (every instance answers to these). */
  aliases: string[];
}

export interface VolumePlan {
  /** Logical name, referenced by mounts. */
  name: string;
  /** chatapi-<stack>-<name> */
  resourceName: string;
  purpose: string;
  /** Persistent volume size (Kubernetes PVC). */
  sizeBytes: number;
  storageClassName?: string;
  /** Docker: bind this host folder instead of a named volume. */
  hostPath?: string;
  /** Data that outlives the stack (kept on delete). */
  retain: boolean;
  /** One volume per instance of the workloads that mount it (<resourceName>-<instance>). */
  perInstance?: boolean;
  /**
   * Created and written by the deploy before the containers that mount it start (the nginx
   * release volume): compose declares it external, the Pulumi target's switch resource fills it.
   */
  writtenByDeploy?: boolean;
}

export interface MountPlan {
  volume: string;
  path: string;
  readOnly: boolean;
}

export interface PortPlan {
  name: string;
  containerPort: number;
  protocol: "tcp";
  /** Published on the host (Docker) / exposed by a LoadBalancer Service. Only nginx has these. */
  published?: { hostPort: number; hostAddress: string };
}

export interface DependencyPlan {
  role: Role;
  condition: "healthy" | "completed";
}

export type WorkloadKind =
  /** Long-running, restarted when it stops. */
  | "service"
  /** Runs once to completion per deployment (Docker one-shot container / Kubernetes Job). */
  | "job"
  /** Runs on a schedule (Kubernetes CronJob; on Docker a long-running container with its own scheduler). */
  | "scheduled";

/**
 * A helper process beside a workload's main one, in the same pod (Kubernetes): same image,
 * user and hardening. It shares the pod's process namespace, so it can signal the main process.
 */
export interface SidecarPlan {
  name: string;
  description: string;
  /** Another image than the workload's (an exporter), run as `user`, with `args` to its entrypoint. */
  image?: ImageKey;
  user?: string;
  args?: string[];
  env?: Record<string, string>;
  ports?: PortPlan[];
  /** Reads the workload's secret files (/run/secrets). */
  secrets?: boolean;
  /** Probed over HTTP instead of running `probe`. */
  httpProbe?: { port: number; path: string };
  command: string[];
  resources: ResourcesPlan;
  /** Plain files of the workload (FilePlan paths) this process reads. */
  files: string[];
  /** tmpfs paths of the workload (TmpfsPlan paths) shared with the main process. */
  sharedTmpfs: string[];
  /** Command that exits 0 while the sidecar works (its liveness and readiness probe). */
  probe: string[];
}

export interface WorkloadPlan {
  role: Role;
  kind: WorkloadKind;
  /** chatapi-<stack>-<role>; instance n of a replicated service is <name>-<n>. */
  name: string;
  description: string;
  image: ImageKey;
  /** Replaces the image's ENTRYPOINT when set. */
  entrypoint?: string[];
  /** Arguments (the image's CMD). */
  command: CommandArg[];
  replicas: number;
  /** Plain, non-secret environment. Secrets only ever arrive as files (FilePlan.env). */
  env: Record<string, string>;
  files: FilePlan[];
  ports: PortPlan[];
  health?: HealthCheckPlan;
  /** Docker: share the host's network namespace (the firewall container only; it has no networks). */
  hostNetwork?: boolean;
  /** Kubernetes readiness (Docker has none: its health check gates start order). */
  readiness?: HealthCheckPlan;
  resources: ResourcesPlan;
  security: SecurityPlan;
  tmpfs: TmpfsPlan[];
  mounts: MountPlan[];
  networks: NetworkAttachmentPlan[];
  restart: "unless-stopped" | "on-failure" | "no";
  dependsOn: DependencyPlan[];
  /** Run a minimal init as PID 1 (Docker --init): forwards signals, reaps zombies. */
  init: boolean;
  /** Seconds between SIGTERM and SIGKILL. */
  stopGracePeriodSeconds: number;
  /** Environment variable named after the instance (per-instance value, e.g. api-2). */
  instanceEnv?: string;
  metrics?: { port: number; path: string };
  labels: Record<string, string>;
  /** Helper processes in the same pod (Kubernetes only; a Docker workload has none). */
  sidecars?: SidecarPlan[];
  /** kind "scheduled": the cron schedule, and the command for hosts without a scheduler. */
  schedule?: { cron: string; daemonCommand: CommandArg[] };
}

/** Allowed connections between workloads (NetworkPolicies, Docker networks, policy checks). */
export interface FlowPlan {
  from: Role;
  to: Role | "internet";
  port?: number;
  purpose: string;
  /** Docker network the flow crosses, where it is not the default (frontend from nginx, else backend). */
  network?: NetworkName;
}

export type TlsPlan =
  | {
      mode: "self-signed";
      commonName: string;
      dnsNames: string[];
      ipAddresses: string[];
      validityHours: number;
    }
  | { mode: "provided" }
  | {
      mode: "acme";
      /** cert-manager issuer that signs the certificate. */
      issuer:
        | { existing: true; name: string; kind: "ClusterIssuer" | "Issuer" }
        /** An ACME Issuer the stack creates, answering HTTP-01 challenges through its Gateway. */
        | { existing: false; name: string; kind: "Issuer"; email: string; server: string };
      /** Docker host: certbot beside nginx (the certbot workload) instead of cert-manager. */
      certbot?: CertbotPlan;
    };

/** certbot on a Docker host: its account, how often it checks, where nginx finds what it writes. */
export interface CertbotPlan {
  email: string;
  server: string;
  /** PEM CA of a private ACME server's HTTPS endpoint (else the system's CAs). */
  serverCa?: string;
  renewCheckSeconds: number;
  /** Inside the nginx container: the challenge webroot and the published certificate. */
  nginx: { webroot: string; certificate: string; privateKey: string };
}

export interface UpstreamServerPlan {
  host: string;
  port: number;
}

export interface LoadBalancerPlan {
  domain: string;
  /** Ports nginx listens on inside its container (unprivileged). */
  listen: { http: number; https: number };
  /** Ports clients use (published on the host / LoadBalancer Service). */
  public: { http: number; https: number; address: string };
  /**
   * API instances: a static list; one DNS name re-resolved as it changes (needs nginx >= 1.27.3);
   * or (Docker host) the live release's instances, listed in a file the deploy writes and nginx
   * includes, switched by a graceful reload (components/containers/release.ts).
   */
  upstream:
    | { kind: "static"; servers: UpstreamServerPlan[] }
    | { kind: "dns"; name: string; port: number; resolver: string }
    | { kind: "release"; file: string; port: number };
  apiPrefix: string;
  /** Route / and /console/ to the API instances (the app's web console is on); absent: off. */
  webConsole?: boolean;
  wsReadTimeoutSeconds: number;
  keepaliveTimeoutSeconds: number;
  clientMaxBodySize: string;
  hstsMaxAgeSeconds: number;
  trustedProxies: string[];
  nginxVersion: string;
  /** HTTP-01 challenges (acme on a Docker host): served from this folder on the HTTP port. */
  acmeWebroot?: string;
  /** stub_status on its own unpublished listener (monitoring on). */
  status?: { port: number; path: string };
  /** Paths inside the nginx container. */
  paths: { certificate: string; privateKey: string; dhParams: string; pidFile: string; tempDir: string };
}

export interface BackupPlan {
  enabled: boolean;
  schedule: string;
  retentionDays: number;
  format: "plain-gz" | "custom";
  /** Where dumps go: the backups volume, and S3 when configured. */
  volume: string;
  directory: string;
  s3?: { bucket: string; prefix?: string; endpoint?: string; region?: string; forcePathStyle: boolean };
}

export interface AutoscalingPlan {
  role: "api";
  minReplicas: number;
  maxReplicas: number;
  targetCpuUtilization: number;
}

export interface FirewallRulePlan {
  port: number;
  protocol: "tcp";
  from: string[];
  purpose: string;
}

export interface FirewallPlan {
  /** Applied by the stack's firewall container (Docker, firewall.enabled). */
  enabled: boolean;
  /** The stack the rules belong to: the comment that marks them on the host. */
  owner: string;
  externalInterface: string;
  /** Host ports open from outside (SSH from its sources; HTTP and HTTPS). */
  inbound: FirewallRulePlan[];
  /** Ports Docker publishes (filtered in DOCKER-USER by their original destination port). */
  published: FirewallRulePlan[];
}

export interface DeploymentPlan {
  project: "chatapi";
  stack: string;
  /** chatapi-<stack> */
  prefix: string;
  target: "docker" | "kubernetes";
  environment: "local" | "production";
  domain: string;
  urls: { https: string; websocket: string; health: string };
  images: Record<CoreImageKey, ImagePlan> & Partial<Record<"ops" | MonitoringImageKey, ImagePlan>>;
  secrets: SecretPlan[];
  generated: GeneratedValuePlan[];
  networks: NetworkPlan[];
  volumes: VolumePlan[];
  workloads: WorkloadPlan[];
  flows: FlowPlan[];
  tls: TlsPlan;
  loadBalancer: LoadBalancerPlan;
  backup: BackupPlan;
  autoscaling?: AutoscalingPlan;
  firewall: FirewallPlan;
  docker: {
    /** chatapi:docker.host; unset: DOCKER_HOST, else the current docker context (../docker/engine.ts). */
    host?: string;
    sshOpts: string[];
    /** A tcp:// engine may go without TLS (chatapi:docker.insecureTcp). */
    insecureTcp: boolean;
    log: { driver: "json-file"; maxSize: string; maxFiles: number };
    /** New app versions: how long a release may take to become ready, how many are remembered. */
    releases: { readyTimeoutSeconds: number; keep: number };
  };
  kubernetes: KubernetesPlan;
  admin: { name: string; email: string };
  monitoring: MonitoringPlan;
}

/** A blackbox probe: what is fetched, and the public URL it stands for (the `instance` label). */
export interface ProbePlan {
  module: string;
  url: string;
  instance: string;
  /** TLS server name and Host header: the public domain. */
  serverName: string;
  /** false for a self-signed certificate (its CA is the stack's own). */
  verifyCertificate: boolean;
}

/** One Prometheus scrape job: the `job` label (SCRAPE_JOBS) and the workload whose instances are its targets. */
export interface ScrapeJobPlan {
  job: string;
  role: Role;
  port: number;
  path: string;
  /** Keep the labels the target reports (a Pushgateway's pushed `job`). */
  honorLabels?: boolean;
  probe?: ProbePlan;
}

export interface MonitoringPlan {
  enabled: boolean;
  /** Docker: Prometheus on 127.0.0.1:<prometheusPort>. */
  prometheusPort: number;
  scrapeIntervalSeconds: number;
  evaluationIntervalSeconds: number;
  retentionDays: number;
  /** Docker: Alertmanager on 127.0.0.1:<port>, which Prometheus sends its alerts to. */
  alertmanager?: AlertmanagerPlan;
  /** Empty when monitoring is off. */
  jobs: ScrapeJobPlan[];
}

/** Where Alertmanager sends alerts, and when. */
export interface AlertmanagerPlan {
  port: number;
  /** Mail through the stack's SMTP server (smtp.*); absent: no mail. */
  email?: {
    to: string[];
    from: string;
    /** host:port */
    smarthost: string;
    username?: string;
    /** The stack's smtp_password secret, read from its file (never in the config). */
    passwordFile?: string;
    /** STARTTLS required: whenever credentials are sent (port 465 is TLS from the start). */
    requireTls: boolean;
  };
  /** POST to chatapi:alertmanagerWebhookUrl: the configuration becomes a secret (alertmanager_config). */
  webhook: boolean;
  groupWaitSeconds: number;
  repeatIntervalHours: number;
}

/** Settings only the Kubernetes target reads. */
export interface KubernetesPlan {
  namespace: string;
  storageClassName?: string;
  /** Clients reach the API through a Gateway of this class instead of the nginx workload. */
  gatewayClassName?: string;
  nginxReplicas: number;
  serviceType: "LoadBalancer" | "NodePort" | "ClusterIP";
  imagePullPolicy: "IfNotPresent" | "Always" | "Never";
  pdbMaxUnavailable: number;
  prometheusScrape: boolean;
  /** Namespace whose pods may scrape /metrics. */
  prometheusNamespace: string;
  /** Name of the Secret with the load balancer's certificate (kubernetes.io/tls). */
  tlsSecretName: string;
  /** Where the provider sends objects: a cluster (kubeconfig/context) or a folder (render mode). */
  provider: { context?: string; kubeconfig?: string; renderYamlToDirectory?: string };
}
