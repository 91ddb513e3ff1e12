// Which secrets the stack needs and where each value comes from. Only names and sources:
// values are resolved by the target (Pulumi config secrets, @pulumi/random, @pulumi/tls).
import { memoryBytes } from "../config/quantity";
import type { SecretConfigKey, StackSettings } from "../config/types";
import type { SecretName, SecretPlan, TemplatePart } from "./types";
import { FANOUT_CLUSTER_PORT, fanoutClusterMaxMemoryBytes } from "./workloads/fanout-cluster";

/** Host names of the data stores inside the stack (Docker network aliases / Service names). */
export const dataStoreHosts = {
  postgres: "postgres",
  redis: "redis",
  rabbitmq: "rabbitmq",
  "redis-cluster": "redis-cluster",
} as const;

/** The address redis_exporter scrapes (the key of its password file): beside Redis in its pod on Kubernetes. */
export const redisExporterAddress = (target: "docker" | "kubernetes") =>
  `redis://${target === "docker" ? dataStoreHosts.redis : "127.0.0.1"}:6379`;

export const SECRETS_DIR = "/run/secrets";
export const secretPath = (name: SecretName) => `${SECRETS_DIR}/${name}`;

const PASSWORD_LENGTH = 32;

export function planSecrets(s: StackSettings, provided: ReadonlySet<SecretConfigKey>): SecretPlan[] {
  const out: SecretPlan[] = [];
  const add = (name: SecretName, source: SecretPlan["source"], description: string) =>
    out.push({ name, source, description });
  const secretRef = (name: SecretName): TemplatePart => ({ secret: name });

  if (s.postgres.mode === "external") {
    add("database_url", { kind: "config", key: "databaseUrl" }, "URL of the managed PostgreSQL");
  } else {
    add(
      "postgres_password",
      { kind: "config-or-random", key: "postgresPassword", length: PASSWORD_LENGTH },
      "password of the PostgreSQL role",
    );
    add(
      "database_url",
      {
        kind: "template",
        parts: [
          `postgresql://${s.postgres.user}:`,
          secretRef("postgres_password"),
          `@${dataStoreHosts.postgres}:5432/${s.postgres.database}`,
        ],
      },
      "DATABASE_URL of the stack's PostgreSQL",
    );
  }

  if (s.fanoutCluster.mode === "external" && provided.has("redisClusterPassword")) {
    add(
      "redis_cluster_password",
      { kind: "config", key: "redisClusterPassword" },
      "password of the external Redis Cluster the fan-out uses",
    );
  }
  if (s.fanoutCluster.mode === "container") {
    add(
      "redis_cluster_password",
      { kind: "config-or-random", key: "redisClusterPassword", length: PASSWORD_LENGTH },
      "requirepass and masterauth of the fan-out's Redis Cluster",
    );
    add(
      "redis_cluster_conf",
      {
        kind: "template",
        parts: [
          "# Written by the chatapi toolkit. The password is why this file is a secret.\n",
          `bind * -::*\nport ${FANOUT_CLUSTER_PORT}\ndir /data\n`,
          "cluster-enabled yes\ncluster-config-file /data/nodes.conf\ncluster-node-timeout 5000\n",
          // The other shards keep serving while one fails over.
          "cluster-require-full-coverage no\n",
          // Pub/sub only: nothing to persist but nodes.conf.
          'appendonly no\nsave ""\n',
          `maxmemory ${fanoutClusterMaxMemoryBytes(s)}\nmaxmemory-policy noeviction\n`,
          "requirepass ",
          secretRef("redis_cluster_password"),
          "\nmasterauth ",
          secretRef("redis_cluster_password"),
          "\n",
        ],
      },
      "redis.conf of the fan-out's Redis Cluster nodes",
    );
  }
  if (s.redis.mode === "external") {
    add("redis_url", { kind: "config", key: "redisUrl" }, "URL of the managed Redis");
  } else {
    add(
      "redis_password",
      { kind: "config-or-random", key: "redisPassword", length: PASSWORD_LENGTH },
      "Redis requirepass",
    );
    add(
      "redis_url",
      {
        kind: "template",
        parts: ["redis://:", secretRef("redis_password"), `@${dataStoreHosts.redis}:6379/0`],
      },
      "REDIS_URL of the stack's Redis",
    );
    const maxmemory = Math.floor(redisMaxMemoryBytes(s));
    add(
      "redis_conf",
      {
        kind: "template",
        parts: [
          "# Written by the chatapi toolkit. The password is why this file is a secret.\n",
          "bind * -::*\nport 6379\ndir /data\nappendonly yes\n",
          // Below the container's memory limit, so Redis refuses writes instead of being OOM-killed.
          `maxmemory ${maxmemory}\nmaxmemory-policy noeviction\n`,
          "requirepass ",
          secretRef("redis_password"),
          "\n",
        ],
      },
      "redis.conf with requirepass",
    );
    if (s.monitoring.enabled)
      add(
        "redis_exporter_passwords",
        {
          kind: "template",
          parts: [`{"${redisExporterAddress(s.target)}": "`, secretRef("redis_password"), '"}\n'],
        },
        "redis_exporter's password file (its address → the Redis password)",
      );
  }

  if (s.rabbitmq.mode === "external") {
    add("rabbitmq_url", { kind: "config", key: "rabbitmqUrl" }, "URL of the managed RabbitMQ");
  } else {
    add(
      "rabbitmq_password",
      { kind: "config-or-random", key: "rabbitmqPassword", length: PASSWORD_LENGTH },
      "password of the RabbitMQ user",
    );
    add(
      "rabbitmq_url",
      {
        kind: "template",
        parts: [
          `amqp://${s.rabbitmq.user}:`,
          secretRef("rabbitmq_password"),
          `@${dataStoreHosts.rabbitmq}:5672/${s.rabbitmq.vhost}`,
        ],
      },
      "RABBITMQ_URL of the stack's RabbitMQ",
    );
    add(
      "rabbitmq_conf",
      {
        kind: "template",
        parts: [
          "# Written by the chatapi toolkit: the first start creates this user and vhost.\n",
          `default_user = ${s.rabbitmq.user}\n`,
          "default_pass = ",
          secretRef("rabbitmq_password"),
          `\ndefault_vhost = ${s.rabbitmq.vhost}\n`,
        ],
      },
      "RabbitMQ conf.d file with the default user (the official image takes no *_FILE variables)",
    );
  }

  add(
    "secret_key",
    { kind: "config-or-random", key: "secretKey", length: 64 },
    "SECRET_KEY that signs access tokens",
  );
  add(
    "admin_api_key",
    { kind: "config-or-random", key: "adminApiKey", length: 48 },
    "API key of the admin client",
  );
  if (provided.has("smtpPassword"))
    add("smtp_password", { kind: "config", key: "smtpPassword" }, "SMTP_PASSWORD");
  if (provided.has("sentryDsn")) add("sentry_dsn", { kind: "config", key: "sentryDsn" }, "SENTRY_DSN");
  if (provided.has("backupS3AccessKeyId")) {
    add("backup_s3_access_key_id", { kind: "config", key: "backupS3AccessKeyId" }, "BACKUP_S3_ACCESS_KEY_ID");
    add(
      "backup_s3_secret_access_key",
      { kind: "config", key: "backupS3SecretAccessKey" },
      "BACKUP_S3_SECRET_ACCESS_KEY",
    );
  }
  // certbot's certificate on a Docker host is no secret of the plan: certbot writes it for nginx.
  if (!(s.tls.mode === "acme" && s.target === "docker")) {
    add("tls_certificate", { kind: "tls", part: "certificate" }, "certificate chain of the load balancer");
    add("tls_private_key", { kind: "tls", part: "private-key" }, "private key of the load balancer");
  }
  return out;
}

function redisMaxMemoryBytes(s: StackSettings): number {
  return memoryBytes(s.redis.memory.limit) * 0.8;
}
