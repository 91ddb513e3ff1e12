// Rules that involve more than one key (the schema checks each key alone). They run on the
// settings after defaults, so they also catch a default that does not fit a user's choice.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { type ConfigIssue, NAMESPACE, REDACTED, UNREADABLE_SECRET } from "./issues";
import { urlSafeExpected, urlSafePassword } from "./fragments";
import { dockerEngineIssues } from "./rules-docker";
import { alertmanagerIssues } from "./rules-monitoring";
import type { SecretConfigKey, StackSettings } from "./types";

type Secrets = Partial<Record<SecretConfigKey, string>>;

const k = (key: string) => `${NAMESPACE}:${key}`;
const setSecret = (key: SecretConfigKey, hint = "<value>") =>
  `a secret, set with: pulumi config set --secret ${k(key)} ${hint}`;

function externalServiceRules(s: StackSettings, secrets: Secrets): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const services = [
    { section: "postgres", secret: "databaseUrl", password: "postgresPassword" },
    { section: "redis", secret: "redisUrl", password: "redisPassword" },
    { section: "rabbitmq", secret: "rabbitmqUrl", password: "rabbitmqPassword" },
  ] as const;
  for (const { section, secret, password } of services) {
    const mode = s[section].mode;
    if (mode === "external" && !secrets[secret]) {
      issues.push({
        key: k(secret),
        problem: `is required when ${k(`${section}.mode`)} is "external"`,
        expected: setSecret(secret, "'<url>'"),
      });
    }
    if (mode === "container" && secrets[secret]) {
      issues.push({
        key: k(secret),
        problem: `is set but ${k(`${section}.mode`)} is "container" (it would be ignored)`,
        expected: `remove it, or set ${k(`${section}.mode`)} to external`,
        actual: REDACTED,
      });
    }
    if (mode === "external" && secrets[password]) {
      issues.push({
        key: k(password),
        problem: `is set but ${k(`${section}.mode`)} is "external" (the URL carries the credentials)`,
        expected: "remove it",
        actual: REDACTED,
      });
    }
  }
  return issues;
}

/** fanoutCluster: an external cluster has nodes, and only it has them; the password belongs to a cluster. */
function fanoutClusterRules(s: StackSettings, secrets: Secrets): ConfigIssue[] {
  const { mode, nodes } = s.fanoutCluster;
  const issues: ConfigIssue[] = [];
  if (mode === "external" && nodes.length === 0)
    issues.push({
      key: k("fanoutCluster.nodes"),
      problem: `is empty but ${k("fanoutCluster.mode")} is "external"`,
      expected: "a few of the cluster's nodes as host:port, such as redis-0.redis-cluster:6379",
    });
  if (mode !== "external" && nodes.length > 0)
    issues.push({
      key: k("fanoutCluster.nodes"),
      problem: `is set but ${k("fanoutCluster.mode")} is "${mode}" (the nodes would be ignored)`,
      expected: `${k("fanoutCluster.mode")} "external", or remove ${k("fanoutCluster.nodes")}`,
      actual: nodes.join(","),
    });
  const password = secrets.redisClusterPassword;
  if (password && mode === "off")
    issues.push({
      key: k("redisClusterPassword"),
      problem: `is set but ${k("fanoutCluster.mode")} is "off" (it would be ignored)`,
      expected: `remove it, or set ${k("fanoutCluster.mode")} to "container" or "external"`,
      actual: REDACTED,
    });
  // The in-stack cluster's password goes into redis.conf as a word.
  if (password && mode === "container" && !new RegExp(urlSafePassword).test(password))
    issues.push({
      key: k("redisClusterPassword"),
      problem: "is not a password the in-stack cluster's redis.conf can hold",
      expected: urlSafeExpected,
      actual: REDACTED,
    });
  return issues;
}

/** Checks provided TLS material with Node's X.509 parser; never prints any of it. */
function providedTlsIssues(s: StackSettings, secrets: Secrets, now: Date): ConfigIssue[] {
  const certPem = secrets.tlsCertificate;
  const keyPem = secrets.tlsPrivateKey;
  const missing: ConfigIssue[] = [];
  if (!certPem) {
    missing.push({
      key: k("tlsCertificate"),
      problem: `is required when ${k("tls.mode")} is "provided"`,
      expected: setSecret("tlsCertificate", "< fullchain.pem"),
    });
  }
  if (!keyPem) {
    missing.push({
      key: k("tlsPrivateKey"),
      problem: `is required when ${k("tls.mode")} is "provided"`,
      expected: setSecret("tlsPrivateKey", "< privkey.pem"),
    });
  }
  if (!certPem || !keyPem) return missing;
  if (certPem === UNREADABLE_SECRET || keyPem === UNREADABLE_SECRET) return [];
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return [{ key: k("tlsCertificate"), problem: "is not a readable PEM certificate", actual: REDACTED }];
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return [{ key: k("tlsPrivateKey"), problem: "is not a readable PEM private key", actual: REDACTED }];
  }
  const issues: ConfigIssue[] = [];
  if (!cert.checkPrivateKey(key)) {
    issues.push({
      key: k("tlsPrivateKey"),
      problem: "does not belong to chatapi:tlsCertificate",
      actual: REDACTED,
    });
  }
  if (s.domain && !cert.checkHost(s.domain)) {
    issues.push({
      key: k("tlsCertificate"),
      problem: `does not cover ${k("domain")} "${s.domain}"`,
      expected: `a certificate whose names include ${s.domain}`,
    });
  }
  if (new Date(cert.validTo) < now) {
    issues.push({
      key: k("tlsCertificate"),
      problem: `expired on ${cert.validTo}`,
      expected: "a valid certificate",
    });
  }
  return issues;
}

function tlsRules(s: StackSettings, secrets: Secrets, now: Date): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (s.tls.mode === "provided") issues.push(...providedTlsIssues(s, secrets, now));
  else {
    for (const key of ["tlsCertificate", "tlsPrivateKey"] as const) {
      if (secrets[key]) {
        issues.push({
          key: k(key),
          problem: `is set but ${k("tls.mode")} is "${s.tls.mode}" (it would be ignored)`,
          expected: `set ${k("tls.mode")} to provided, or remove it`,
          actual: REDACTED,
        });
      }
    }
  }
  if (s.tls.acmeServerCa && (s.target !== "docker" || s.tls.mode !== "acme"))
    issues.push({
      key: k("tls.acmeServerCa"),
      problem: "is read only by certbot, on the docker target in acme mode (it would be ignored)",
      expected: `remove it, or set ${k("tls.mode")} to acme on the docker target`,
      actual: "a certificate",
    });
  if (s.tls.mode === "acme") {
    issues.push(...(s.target === "docker" ? certbotRules(s) : acmeIssuerRules(s)));
  } else if (s.tls.issuerName) {
    issues.push({
      key: k("tls.issuerName"),
      problem: `is set but ${k("tls.mode")} is "${s.tls.mode}" (it would be ignored)`,
      expected: `set ${k("tls.mode")} to acme, or remove it`,
      actual: JSON.stringify(s.tls.issuerName),
    });
  }
  return issues;
}

/**
 * acme on a Docker host: certbot beside nginx answers HTTP-01 challenges through nginx's port
 * 80, which must be the public HTTP port (the ACME server connects to it).
 */
function certbotRules(s: StackSettings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!s.tls.acmeEmail)
    issues.push({
      key: k("tls.acmeEmail"),
      problem: `is required when ${k("tls.mode")} is "acme" (certbot's ACME account)`,
      expected: "an e-mail address",
    });
  if (s.tls.issuerName)
    issues.push({
      key: k("tls.issuerName"),
      problem: "names a cert-manager issuer, which only the kubernetes target has",
      expected: "unset on the docker target (certbot is the ACME client there)",
      actual: JSON.stringify(s.tls.issuerName),
    });
  return issues;
}

/**
 * acme on Kubernetes: cert-manager signs the certificate. Either an existing issuer (any
 * solver, typically DNS-01) or an ACME Issuer the stack creates, whose HTTP-01 challenges are
 * answered through the stack's Gateway (nginx is not an ingress controller cert-manager can
 * drive, and ingress-nginx is retired).
 */
function acmeIssuerRules(s: StackSettings): ConfigIssue[] {
  if (s.target !== "kubernetes") return [];
  if (s.tls.issuerName) {
    return s.tls.acmeEmail
      ? [
          {
            key: k("tls.acmeEmail"),
            problem: `is set but ${k("tls.issuerName")} names an existing issuer, which holds its own ACME account (it would be ignored)`,
            expected: "remove it",
            actual: JSON.stringify(s.tls.acmeEmail),
          },
        ]
      : [];
  }
  const issues: ConfigIssue[] = [];
  if (!s.kubernetes.gatewayClassName) {
    issues.push({
      key: k("tls.issuerName"),
      problem: `is required when ${k("tls.mode")} is "acme" and ${k("kubernetes.gatewayClassName")} is unset (HTTP-01 challenges of an Issuer the stack creates are answered through a Gateway)`,
      expected:
        "an existing cert-manager ClusterIssuer or Issuer, e.g. letsencrypt-prod with a DNS-01 solver",
    });
  }
  if (!s.tls.acmeEmail) {
    issues.push({
      key: k("tls.acmeEmail"),
      problem: `is required when ${k("tls.mode")} is "acme" and the stack creates the ACME Issuer (no ${k("tls.issuerName")})`,
      expected: "an e-mail address",
    });
  }
  if (s.tls.issuerKind === "Issuer" && !s.tls.issuerName) {
    issues.push({
      key: k("tls.issuerKind"),
      problem: `names the kind of ${k("tls.issuerName")}, which is unset`,
      expected: "unset, or set tls.issuerName",
      actual: '"Issuer"',
    });
  }
  return issues;
}

function scalingRules(s: StackSettings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const hpa = s.api.autoscaling;
  if (hpa.enabled && s.target === "docker") {
    issues.push({
      key: k("api.autoscaling.enabled"),
      problem: "the docker target runs a fixed number of API containers",
      expected: `false (set ${k("api.replicas")} instead)`,
      actual: "true",
    });
  }
  if (hpa.maxReplicas < hpa.minReplicas) {
    issues.push({
      key: k("api.autoscaling.maxReplicas"),
      problem: `is below ${k("api.autoscaling.minReplicas")} (${hpa.minReplicas})`,
      expected: `at least ${hpa.minReplicas}`,
      actual: String(hpa.maxReplicas),
    });
  }
  return issues;
}

function rootUserRules(s: StackSettings): ConfigIssue[] {
  return (["postgres", "redis", "rabbitmq", "nginx"] as const)
    .filter((section) => /^0:/.test(s[section].runAs))
    .map((section) => ({
      key: k(`${section}.runAs`),
      problem: "runs the process as root",
      expected: "a non-root uid:gid such as 999:999",
      actual: JSON.stringify(s[section].runAs),
    }));
}

function miscRules(s: StackSettings, secrets: Secrets): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (s.environment === "production" && !s.domain) {
    issues.push({
      key: k("domain"),
      problem: "is required in production",
      expected: "the public host name, e.g. chat.example.com",
    });
  }
  // The offline images (and the app image built on them) are imported into the nodes, e.g. by
  // scripts/cluster on the local cluster; anything else must come from a registry.
  const offline = s.images.preset === "offline";
  if (s.target === "kubernetes" && !s.images.app && !offline) {
    issues.push({
      key: k("images.app"),
      problem: "is required on the kubernetes target (a cluster pulls images from a registry)",
      expected: `a pushed image reference, e.g. registry.example.com/chatapi:1.0.0 (or ${k("images.preset")} offline with the images imported into the nodes)`,
    });
  }
  if (s.target === "kubernetes" && offline && s.kubernetes.imagePullPolicy === "Always") {
    issues.push({
      key: k("kubernetes.imagePullPolicy"),
      problem: `cannot be Always with ${k("images.preset")} offline (the chatapi-local/* images are in no registry)`,
      expected: "Never or IfNotPresent, with the images imported into the nodes (scripts/cluster import)",
      actual: JSON.stringify(s.kubernetes.imagePullPolicy),
    });
  }
  if (s.nginx.httpPort === s.nginx.httpsPort) {
    issues.push({
      key: k("nginx.httpsPort"),
      problem: `equals ${k("nginx.httpPort")}`,
      expected: "two different ports",
      actual: String(s.nginx.httpsPort),
    });
  }
  const s3Keys = [secrets.backupS3AccessKeyId, secrets.backupS3SecretAccessKey].filter(Boolean).length;
  if (s3Keys === 1) {
    issues.push({
      key: k(secrets.backupS3AccessKeyId ? "backupS3SecretAccessKey" : "backupS3AccessKeyId"),
      problem: "is missing: the S3 access key id and secret access key go together",
      expected: "both or neither",
    });
  }
  if (s3Keys > 0 && !s.backup.s3) {
    issues.push({
      key: k("backup.s3.bucket"),
      problem: "is required when S3 credentials are set",
      expected: "an S3 bucket name",
    });
  }
  if (s.backup.hostPath && s.target !== "docker") {
    issues.push({
      key: k("backup.hostPath"),
      problem: "is a Docker host folder; the kubernetes target keeps backups on a PVC",
      expected: `unset (size the PVC with ${k("backup.storageSize")})`,
      actual: JSON.stringify(s.backup.hostPath),
    });
  }
  if (secrets.smtpPassword && !s.smtp.host) {
    issues.push({
      key: k("smtp.host"),
      problem: `is required when ${k("smtpPassword")} is set`,
      expected: "a DNS host name",
    });
  }
  for (const key of ["gatewayClassName", "context", "kubeconfig", "renderYamlToDirectory"] as const) {
    const value = s.kubernetes[key];
    if (value && s.target !== "kubernetes") {
      issues.push({
        key: k(`kubernetes.${key}`),
        problem: "only applies to the kubernetes target",
        expected: "unset",
        actual: JSON.stringify(value),
      });
    }
  }
  return issues;
}

export function crossFieldIssues(s: StackSettings, secrets: Secrets, now = new Date()): ConfigIssue[] {
  return [
    ...miscRules(s, secrets),
    ...externalServiceRules(s, secrets),
    ...fanoutClusterRules(s, secrets),
    ...tlsRules(s, secrets, now),
    ...scalingRules(s),
    ...rootUserRules(s),
    ...dockerEngineIssues(s, secrets),
    ...alertmanagerIssues(s, secrets),
  ];
}
