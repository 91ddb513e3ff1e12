// The validated stack config after per-environment defaults: what the plan is built from.
// Plain data only; secret values are kept apart (StackConfig.secrets).
import type { SecretConfigKey } from "./schema";

export type Target = "docker" | "kubernetes";
export type Environment = "local" | "production";
export type ImagePreset = "upstream" | "offline";
export type ServiceMode = "container" | "external";
export type TlsMode = "self-signed" | "provided" | "acme";

export interface RangeQuantity {
  request: string;
  limit: string;
}

export interface ResourceSettings {
  cpu: RangeQuantity;
  memory: RangeQuantity;
  pidsLimit: number;
}

export interface StorageSettings {
  storageSize: string;
  storageClassName?: string;
}

export interface AutoscalingSettings {
  enabled: boolean;
  minReplicas: number;
  maxReplicas: number;
  targetCpuUtilization: number;
}

export interface StackSettings {
  target: Target;
  environment: Environment;
  domain: string;
  images: {
    preset: ImagePreset;
    app?: string;
    appBuildName: string;
    appBaseImage: string;
    appBuildImage: string;
    postgres: string;
    redis: string;
    rabbitmq: string;
    nginx: string;
  };
  api: ResourceSettings & { replicas: number; autoscaling: AutoscalingSettings };
  worker: ResourceSettings & { replicas: number };
  postgres: ResourceSettings &
    StorageSettings & { mode: ServiceMode; database: string; user: string; runAs: string };
  redis: ResourceSettings & StorageSettings & { mode: ServiceMode; runAs: string };
  rabbitmq: ResourceSettings &
    StorageSettings & { mode: ServiceMode; user: string; vhost: string; runAs: string };
  nginx: ResourceSettings & {
    replicas: number;
    version: string;
    httpPort: number;
    httpsPort: number;
    publishAddress: string;
    wsReadTimeoutSeconds: number;
    clientMaxBodySize: string;
    hstsMaxAgeSeconds: number;
    trustedProxies: string[];
    runAs: string;
  };
  tls: {
    mode: TlsMode;
    selfSignedValidityDays: number;
    acmeEmail?: string;
    acmeServer: string;
    issuerName?: string;
    issuerKind: "ClusterIssuer" | "Issuer";
  };
  backup: StorageSettings & {
    enabled: boolean;
    schedule: string;
    retentionDays: number;
    format: "plain-gz" | "custom";
    hostPath?: string;
    s3?: { bucket: string; prefix?: string; endpoint?: string; region?: string; forcePathStyle?: boolean };
  };
  smtp: { host?: string; port: number; user?: string; from: string };
  app: {
    logLevel: "DEBUG" | "INFO" | "WARNING" | "ERROR";
    debug: boolean;
    projectName: string;
    apiPrefix: string;
    accessTokenExpireMinutes: number;
    refreshTokenExpireDays: number;
    databasePoolSize: number;
    databaseMaxOverflow: number;
    corsOrigins: string[];
    logFile: boolean;
  };
  admin: { name: string; email: string; clientId?: string };
  docker: { host: string; sshOpts: string[]; logMaxSize: string; logMaxFiles: number };
  kubernetes: {
    namespace: string;
    storageClassName?: string;
    gatewayClassName?: string;
    serviceType: "LoadBalancer" | "NodePort" | "ClusterIP";
    imagePullPolicy: "IfNotPresent" | "Always" | "Never";
    pdbMaxUnavailable: number;
    prometheusScrape: boolean;
    prometheusNamespace: string;
    context?: string;
    kubeconfig?: string;
    renderYamlToDirectory?: string;
  };
  firewall: { sshPort: number; sshAllowFrom: string[]; externalInterface: string };
}

/**
 * The stack config: plain settings plus the secret values that were set. Secret values are
 * plain strings here only so they can be validated; the program wraps them with
 * pulumi.secret() before any resource sees them, and nothing prints them.
 */
export interface StackConfig {
  stack: string;
  settings: StackSettings;
  secrets: Partial<Record<SecretConfigKey, string>>;
}

export type { SecretConfigKey };

/** Recursively optional: the shape of per-environment default overrides. */
export type DeepPartial<T> = T extends readonly (infer _U)[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;
