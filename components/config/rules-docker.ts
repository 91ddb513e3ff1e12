// Rules of the Docker engine keys: a tcp:// engine is reached with mutual TLS (CA, client
// certificate and key, all three config secrets) unless chatapi:docker.insecureTcp allows
// plain TCP. The same issue is raised by ../docker/engine.ts when the tcp:// engine comes from
// DOCKER_HOST or a docker context instead of the config.
import { type ConfigIssue, NAMESPACE, REDACTED } from "./issues";
import type { SecretConfigKey, StackSettings } from "./types";

const k = (key: string) => `${NAMESPACE}:${key}`;

/** The config secrets that hold a tcp:// engine's TLS material, and the file each usually is. */
export const DOCKER_TLS_KEYS = {
  dockerCaCertificate: "ca.pem",
  dockerClientCertificate: "cert.pem",
  dockerClientKey: "key.pem",
} as const satisfies Partial<Record<SecretConfigKey, string>>;
export type DockerTlsKey = keyof typeof DOCKER_TLS_KEYS;
const tlsKeys = Object.keys(DOCKER_TLS_KEYS) as DockerTlsKey[];

const isTcp = (host: string) => host.startsWith("tcp://");

/** A tcp:// engine with no TLS material; `problem` says where the host came from. */
export function tcpWithoutTlsIssue(host: string, problem = "is a tcp:// engine"): ConfigIssue {
  const sets = tlsKeys.map((key) => `pulumi config set --secret ${k(key)} < ${DOCKER_TLS_KEYS[key]}`);
  return {
    key: k("docker.host"),
    problem: `${problem} without TLS (anyone who reaches its port controls the host)`,
    expected: `the engine's CA, a client certificate and its key as secrets (${sets.join("; ")}), or ${k("docker.insecureTcp")} true for an engine on loopback or a private CI network`,
    actual: JSON.stringify(host),
  };
}

export function dockerEngineIssues(
  s: StackSettings,
  secrets: Partial<Record<SecretConfigKey, string>>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const set = tlsKeys.filter((key) => secrets[key]);
  if (s.target !== "docker")
    return set.map((key) => ({
      key: k(key),
      problem: "only applies to the docker target",
      expected: "unset",
      actual: REDACTED,
    }));
  if (set.length > 0 && set.length < tlsKeys.length)
    for (const key of tlsKeys.filter((key) => !secrets[key]))
      issues.push({
        key: k(key),
        problem: `is missing: the Docker engine's CA, client certificate and key go together (${set.map(k).join(", ")} ${set.length > 1 ? "are" : "is"} set)`,
        expected: `a secret, set with: pulumi config set --secret ${k(key)} < ${DOCKER_TLS_KEYS[key]}`,
      });
  const host = s.docker.host;
  if (!host) return issues;
  if (set.length > 0 && !isTcp(host))
    issues.push({
      key: k("docker.host"),
      problem: `is not a tcp:// engine, so ${set.map(k).join(", ")} would be ignored`,
      expected: "a tcp://host:port engine, or the TLS secrets removed",
      actual: JSON.stringify(host),
    });
  if (isTcp(host) && set.length === 0 && !s.docker.insecureTcp) issues.push(tcpWithoutTlsIssue(host));
  return issues;
}
