// Values for a stack's secrets that the offline run cannot read: encrypted ones in the stack
// file (`secure:`; only the Pulumi CLI with the stack's passphrase/KMS decrypts them) and
// required ones that are set outside the file (a provided TLS certificate). Policies judge
// where secrets go, never their values, so stand-ins of the right shape are enough.
import { randomBytes } from "node:crypto";
import { ConfigError } from "../../components/config/issues";
import { loadStackConfig } from "../../components/config/load";
import { secretConfigKeys } from "../../components/config/schema";
import { makeCertificate } from "../../test/support/tls-fixture";

const URL_PLACEHOLDERS: Record<string, string> = {
  databaseUrl: "postgresql://chatapi:offline-placeholder@postgres.invalid:5432/chatapi",
  redisUrl: "redis://:offline-placeholder@redis.invalid:6379/0",
  rabbitmqUrl: "amqp://chatapi:offline-placeholder@rabbitmq.invalid:5672/chatapi",
};

function placeholder(
  key: string,
  domain: string,
  tls: () => { certificate: string; privateKey: string },
): string {
  if (["tlsCertificate", "dockerCaCertificate", "dockerClientCertificate"].includes(key))
    return tls().certificate;
  if (key === "tlsPrivateKey" || key === "dockerClientKey") return tls().privateKey;
  return URL_PLACEHOLDERS[key] ?? randomBytes(24).toString("hex");
}

export interface StackSource {
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
  appVersion: string;
}

/**
 * Adds stand-ins for the secret keys the file encrypts and those the config requires but
 * lacks; returns the keys it filled. Other config errors are left for the program to report.
 */
export function fillSecretPlaceholders(source: StackSource, encryptedKeys: string[]): string[] {
  const domain = source.config["chatapi:domain"] ?? "localhost";
  let certificate: { certificate: string; privateKey: string } | undefined;
  const tls = () => (certificate ??= makeCertificate(domain, 365));
  const filled: string[] = [];
  const fill = (key: string) => {
    source.config[key] = placeholder(key.replace(/^chatapi:/, ""), domain, tls);
    if (!source.secretKeys.includes(key)) source.secretKeys.push(key);
    filled.push(key);
  };
  for (const key of encryptedKeys) fill(key);
  try {
    loadStackConfig(source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const secretKeys = new Set(secretConfigKeys.map((k) => `chatapi:${k}`));
    for (const issue of error.issues)
      if (issue.actual === undefined && secretKeys.has(issue.key) && !filled.includes(issue.key))
        fill(issue.key);
  }
  return filled;
}
