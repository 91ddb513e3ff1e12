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
  secret,
  urlSafeExpected,
  urlSafePassword,
} from "./fragments";
import { operationKeys } from "./keys-operations";
import { processKeys } from "./keys-processes";

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
    ...processKeys,
    ...operationKeys,
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
    redisClusterPassword: secret(
      "Password of the fan-out's Redis Cluster: the external one's (fanoutCluster.mode external), when it has one; the in-stack one's (mode container; default: generated).",
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
    alertmanagerWebhookUrl: secret(
      "Alertmanager's webhook receiver (monitoring.alertmanager.enabled): POSTs every alert notification here; a secret because such URLs often carry a token.",
      '^https?://[^\\s"\\\\]+$',
      "an http(s):// URL without spaces, quotes or backslashes",
    ),
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
    dockerCaCertificate: secret(
      "PEM CA certificate that signed a tcp:// Docker engine's server certificate (docker.host).",
      "-----BEGIN CERTIFICATE-----",
      "a PEM certificate",
    ),
    dockerClientCertificate: secret(
      "PEM client certificate the Docker target presents to a tcp:// engine (signed by a CA the engine trusts).",
      "-----BEGIN CERTIFICATE-----",
      "a PEM certificate",
    ),
    dockerClientKey: secret(
      "PEM private key of chatapi:dockerClientCertificate.",
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
