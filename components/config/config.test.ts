// Stack config validation: the shipped stack files pass; each bad config fails with a message
// that names the key, says what was expected and shows the value (secrets as [secret]).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../test/support/paths";
import { type TlsFixture, makeCertificate } from "../../test/support/tls-fixture";
import { ConfigError } from "./issues";
import { loadStackConfig } from "./load";
import { readAppVersion, readStackFile } from "./stack-file";
import type { StackConfig } from "./types";

const appVersion = readAppVersion(repoRoot);
let tls: TlsFixture;
beforeAll(() => {
  tls = makeCertificate("chat.example.com");
});

/** Config map and secret keys of a shipped stack file, with changes applied. */
function stackConfig(
  stack: string,
  changes: Record<string, string | undefined> = {},
  secrets: Record<string, string> = {},
) {
  const file = readStackFile(repoRoot, stack, secrets);
  const config = { ...file.config };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete config[key];
    else config[key] = value;
  }
  return { stack, config, secretKeys: file.secretKeys, appVersion };
}

/** Merges nested keys into one top-level object key (as `pulumi config set --path` does). */
function withObject(stack: string, key: string, value: Record<string, unknown>) {
  const file = readStackFile(repoRoot, stack);
  const current = file.config[key] ? (JSON.parse(file.config[key]) as Record<string, unknown>) : {};
  return JSON.stringify({ ...current, ...value });
}

function problems(load: () => StackConfig): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("the config was accepted");
}

const dockerhostSecrets = () => ({
  "chatapi:tlsCertificate": tls.certificate,
  "chatapi:tlsPrivateKey": tls.privateKey,
});

describe("the shipped stack files", () => {
  it("local validates with the local defaults", () => {
    const { settings, secrets } = loadStackConfig(stackConfig("local"));
    expect(settings).toMatchObject({ target: "docker", environment: "local", domain: "localhost" });
    expect(settings.images).toMatchObject({ preset: "upstream", postgres: "postgres:15-bookworm" });
    expect(settings.api.replicas).toBe(2);
    expect(settings.tls.mode).toBe("self-signed");
    expect(settings.nginx).toMatchObject({ httpsPort: 8443, publishAddress: "127.0.0.1" });
    expect(secrets).toEqual({});
  });

  it("prod (Kubernetes) validates without any secret set", () => {
    const { settings } = loadStackConfig(stackConfig("prod"));
    expect(settings).toMatchObject({
      target: "kubernetes",
      environment: "production",
      domain: "chat.example.com",
    });
    expect(settings.api.autoscaling).toEqual({
      enabled: true,
      minReplicas: 3,
      maxReplicas: 10,
      targetCpuUtilization: 70,
    });
    expect(settings.tls.mode).toBe("acme");
  });

  it("dockerhost asks for exactly the certificate and key, and validates once they are set", () => {
    const message = problems(() => loadStackConfig(stackConfig("dockerhost")));
    expect(message).toContain("(2 problems)");
    expect(message).toContain('chatapi:tlsCertificate: is required when chatapi:tls.mode is "provided"');
    expect(message).toContain("pulumi config set --secret chatapi:tlsPrivateKey < privkey.pem");

    const { settings, secrets } = loadStackConfig(stackConfig("dockerhost", {}, dockerhostSecrets()));
    expect(settings.docker.host).toBe("ssh://deploy@chat.example.com");
    expect(settings.api).toMatchObject({ replicas: 3, memory: { request: "2Gi", limit: "4Gi" } });
    expect(settings.worker).toMatchObject({ replicas: 2, memory: { request: "1Gi", limit: "2Gi" } });
    expect(settings.redis.memory.limit).toBe("1Gi");
    expect(settings.nginx).toMatchObject({ httpPort: 80, httpsPort: 443, publishAddress: "0.0.0.0" });
    expect(secrets.tlsCertificate).toBe(tls.certificate);
  });

  /** A shipped stack that provides its certificate, validated with one made for its domain. */
  const withCertificate = (stack: string, domain: string) => {
    const { certificate, privateKey } = makeCertificate(domain);
    const secrets = { "chatapi:tlsCertificate": certificate, "chatapi:tlsPrivateKey": privateKey };
    return loadStackConfig(stackConfig(stack, {}, secrets)).settings;
  };

  it("localcluster (the local cluster) validates once its certificate is set, with the offline app image", () => {
    const settings = withCertificate("localcluster", "chatapi.localcluster.test");
    expect(settings).toMatchObject({ target: "kubernetes", environment: "production" });
    expect(settings.images).toMatchObject({
      preset: "offline",
      appBuildName: `chatapi-local/chatapi:${appVersion}`,
      nginx: "chatapi-local/nginx-unprivileged:1",
    });
    expect(settings.images.app).toBeUndefined();
    expect(settings.kubernetes).toMatchObject({
      imagePullPolicy: "Never",
      storageClassName: "local-path-retain",
    });
    expect(settings.api.autoscaling).toMatchObject({ enabled: true, minReplicas: 3, maxReplicas: 4 });
  });

  it("kind (a stock kind cluster) validates once its certificate is set, with the app image scripts/app-image builds", () => {
    const settings = withCertificate("kind", "chatapi.kind.test");
    expect(settings).toMatchObject({ target: "kubernetes", environment: "production" });
    expect(settings.images).toMatchObject({ preset: "upstream", app: `chatapi:${appVersion}` });
    expect(settings.kubernetes).toMatchObject({
      context: "kind-chatapi",
      imagePullPolicy: "IfNotPresent",
      storageClassName: "standard",
      serviceType: "ClusterIP",
    });
  });

  it("keeps no secret in plain text in any shipped stack file", () => {
    for (const stack of ["local", "prod", "dockerhost", "kind", "localcluster"]) {
      expect(readStackFile(repoRoot, stack).secretKeys, stack).toEqual([]);
    }
  });
});

interface BadCase {
  name: string;
  stack?: string;
  changes: () => Record<string, string | undefined>;
  secrets?: () => Record<string, string>;
  /** Text every message must contain (the key first). */
  expect: string[];
}

const badCases: BadCase[] = [
  {
    name: "missing target",
    changes: () => ({ "chatapi:target": undefined }),
    expect: ["chatapi:target: is required"],
  },
  {
    name: "missing environment",
    changes: () => ({ "chatapi:environment": undefined }),
    expect: ['chatapi:environment: is required; expected one of "local", "production"'],
  },
  {
    name: "unknown target",
    changes: () => ({ "chatapi:target": "swarm" }),
    expect: ['chatapi:target: is not an allowed value; expected one of "docker", "kubernetes"; got "swarm"'],
  },
  {
    name: "replicas of the wrong type",
    changes: () => ({ "chatapi:api": withObject("local", "chatapi:api", { replicas: "three" }) }),
    expect: ['chatapi:api.replicas: has the wrong type; expected an integer from 1 to 50; got "three"'],
  },
  {
    name: "a section that is not an object",
    changes: () => ({ "chatapi:api": "3" }),
    expect: ["chatapi:api: is not an object", "pulumi config set --path chatapi:api.<key>", 'got "3"'],
  },
  {
    name: "API replicas out of range (0)",
    changes: () => ({ "chatapi:api": withObject("local", "chatapi:api", { replicas: 0 }) }),
    expect: ["chatapi:api.replicas: is out of range; expected an integer from 1 to 50; got 0"],
  },
  {
    name: "worker replicas out of range (51)",
    changes: () => ({ "chatapi:worker": withObject("local", "chatapi:worker", { replicas: 51 }) }),
    expect: ["chatapi:worker.replicas: is out of range; expected an integer from 1 to 50; got 51"],
  },
  {
    name: "a cron expression with four fields",
    changes: () => ({ "chatapi:backup": JSON.stringify({ schedule: "0 2 * *" }) }),
    expect: ["chatapi:backup.schedule: is not a valid cron expression (has 4 fields", 'got "0 2 * *"'],
  },
  {
    name: "a cron expression with an impossible minute",
    changes: () => ({ "chatapi:backup": JSON.stringify({ schedule: "61 2 * * *" }) }),
    expect: ["chatapi:backup.schedule: is not a valid cron expression", 'got "61 2 * * *"'],
  },
  {
    name: "an untagged image",
    changes: () => ({ "chatapi:images": withObject("local", "chatapi:images", { postgres: "postgres" }) }),
    expect: ["chatapi:images.postgres: is not a usable image reference (no tag or digest", 'got "postgres"'],
  },
  {
    name: "a fan-out cluster node without a port",
    changes: () => ({
      "chatapi:fanoutCluster": JSON.stringify({ mode: "external", nodes: ["redis-0:6379", "redis-1"] }),
    }),
    expect: [
      'chatapi:fanoutCluster.nodes[1]: is not valid; expected host:port, such as redis-0.redis-cluster:6379; got "redis-1"',
    ],
  },
  {
    name: "an external fan-out cluster without nodes",
    changes: () => ({ "chatapi:fanoutCluster": JSON.stringify({ mode: "external" }) }),
    expect: [
      'chatapi:fanoutCluster.nodes: is empty but chatapi:fanoutCluster.mode is "external"; expected a few of the cluster\'s nodes as host:port',
    ],
  },
  {
    name: "fan-out cluster nodes with the in-stack cluster",
    changes: () => ({
      "chatapi:fanoutCluster": JSON.stringify({ mode: "container", nodes: ["redis-0:6379"] }),
    }),
    expect: [
      'chatapi:fanoutCluster.nodes: is set but chatapi:fanoutCluster.mode is "container" (the nodes would be ignored)',
      "got redis-0:6379",
    ],
  },
  {
    name: "an in-stack fan-out cluster of two shards",
    changes: () => ({ "chatapi:fanoutCluster": JSON.stringify({ mode: "container", shards: 2 }) }),
    expect: ["chatapi:fanoutCluster.shards: is out of range; expected an integer from 3 to 16; got 2"],
  },
  {
    name: "a fan-out cluster password without a cluster",
    changes: () => ({}),
    secrets: () => ({ "chatapi:redisClusterPassword": randomBytes(12).toString("hex") }),
    expect: [
      'chatapi:redisClusterPassword: is set but chatapi:fanoutCluster.mode is "off" (it would be ignored); expected remove it, or set chatapi:fanoutCluster.mode to "container" or "external"; got [secret]',
    ],
  },
  {
    name: "an in-stack fan-out cluster password redis.conf cannot hold",
    changes: () => ({ "chatapi:fanoutCluster": JSON.stringify({ mode: "container" }) }),
    secrets: () => ({ "chatapi:redisClusterPassword": "two words of a long password" }),
    expect: [
      "chatapi:redisClusterPassword: is not a password the in-stack cluster's redis.conf can hold; expected 16 to 128 characters from A-Z a-z 0-9 . _ ~ -; got [secret]",
    ],
  },
  {
    name: "an image tagged latest",
    changes: () => ({ "chatapi:images": withObject("local", "chatapi:images", { redis: "redis:latest" }) }),
    expect: [
      "chatapi:images.redis: is not a usable image reference (the tag latest is not pinned",
      'got "redis:latest"',
    ],
  },
  {
    name: "an image reference with upper-case letters",
    changes: () => ({ "chatapi:images": withObject("local", "chatapi:images", { nginx: "Nginx:1.28" }) }),
    expect: [
      "chatapi:images.nginx: is not a usable image reference (not a valid image reference)",
      'got "Nginx:1.28"',
    ],
  },
  {
    name: "an image reference with a URL scheme",
    changes: () => ({
      "chatapi:images": withObject("local", "chatapi:images", {
        app: "https://registry.example.com/chatapi:1.0.0",
      }),
    }),
    expect: ["chatapi:images.app: is not a usable image reference"],
  },
  {
    name: "an unknown top-level key",
    changes: () => ({ "chatapi:replicas": "3" }),
    expect: ["chatapi:replicas: unknown key", "expected one of target, environment"],
  },
  {
    name: "a misspelt nested key",
    changes: () => ({ "chatapi:api": withObject("local", "chatapi:api", { replica: 2 }) }),
    expect: ["chatapi:api.replica: unknown key (did you mean replicas?)"],
  },
  {
    name: "a memory quantity in the wrong unit",
    changes: () => ({ "chatapi:api": JSON.stringify({ memory: { limit: "4GB" } }) }),
    expect: [
      'chatapi:api.memory.limit: is not valid; expected a memory quantity such as 512Mi, 2Gi or 4G; got "4GB"',
    ],
  },
  {
    name: "an impossible CIDR",
    changes: () => ({ "chatapi:firewall": JSON.stringify({ sshAllowFrom: ["10.0.0.0/33"] }) }),
    expect: [
      'chatapi:firewall.sshAllowFrom[0]: is not valid; expected a CIDR such as 203.0.113.0/24; got "10.0.0.0/33"',
    ],
  },
  {
    name: "the default namespace",
    stack: "prod",
    changes: () => ({ "chatapi:kubernetes": JSON.stringify({ namespace: "default" }) }),
    expect: [
      'chatapi:kubernetes.namespace: is not valid; expected a DNS label other than default; got "default"',
    ],
  },
  {
    name: "production without a domain",
    stack: "prod",
    changes: () => ({ "chatapi:domain": undefined }),
    expect: ["chatapi:domain: is required in production"],
  },
  {
    name: "Kubernetes without a pushed app image",
    stack: "prod",
    changes: () => ({ "chatapi:images": "{}" }),
    expect: ["chatapi:images.app: is required on the kubernetes target"],
  },
  {
    name: "offline images that a Kubernetes node would try to pull",
    stack: "prod",
    changes: () => ({
      "chatapi:images": JSON.stringify({ preset: "offline" }),
      "chatapi:kubernetes": JSON.stringify({ imagePullPolicy: "Always" }),
    }),
    expect: [
      "chatapi:kubernetes.imagePullPolicy: cannot be Always with chatapi:images.preset offline",
      'got "Always"',
    ],
  },
  {
    name: "an external database without its URL",
    changes: () => ({ "chatapi:postgres": JSON.stringify({ mode: "external" }) }),
    expect: [
      'chatapi:databaseUrl: is required when chatapi:postgres.mode is "external"',
      "pulumi config set --secret chatapi:databaseUrl",
    ],
  },
  {
    name: "ACME on the Docker target without an account e-mail",
    changes: () => ({ "chatapi:tls": JSON.stringify({ mode: "acme" }) }),
    expect: ['chatapi:tls.acmeEmail: is required when chatapi:tls.mode is "acme" (certbot\'s ACME account)'],
  },
  {
    name: "a cert-manager issuer on the Docker target",
    changes: () => ({
      "chatapi:tls": JSON.stringify({
        mode: "acme",
        acmeEmail: "ops@example.com",
        issuerName: "letsencrypt-prod",
      }),
    }),
    expect: ["chatapi:tls.issuerName: names a cert-manager issuer, which only the kubernetes target has"],
  },
  {
    name: "an ACME server CA outside certbot's acme mode",
    changes: () => ({
      "chatapi:tls": JSON.stringify({
        mode: "self-signed",
        acmeServerCa: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      }),
    }),
    expect: [
      "chatapi:tls.acmeServerCa: is read only by certbot, on the docker target in acme mode (it would be ignored)",
    ],
  },
  {
    name: "an ACME renewal check more often than every 10 seconds",
    changes: () => ({
      "chatapi:tls": JSON.stringify({ mode: "acme", acmeEmail: "ops@example.com", acmeRenewCheckSeconds: 5 }),
    }),
    expect: ["chatapi:tls.acmeRenewCheckSeconds: is out of range"],
  },
  {
    name: "autoscaling on the Docker target",
    changes: () => ({ "chatapi:api": JSON.stringify({ autoscaling: { enabled: true } }) }),
    expect: ["chatapi:api.autoscaling.enabled: the docker target runs a fixed number of API containers"],
  },
  {
    name: "an HPA maximum below its minimum",
    stack: "prod",
    changes: () => ({ "chatapi:api": JSON.stringify({ autoscaling: { minReplicas: 5, maxReplicas: 4 } }) }),
    expect: [
      "chatapi:api.autoscaling.maxReplicas: is below chatapi:api.autoscaling.minReplicas (5); expected at least 5; got 4",
    ],
  },
  {
    name: "Kubernetes: API replicas 0",
    stack: "prod",
    changes: () => ({ "chatapi:api": JSON.stringify({ replicas: 0 }) }),
    expect: ["chatapi:api.replicas: is out of range; expected an integer from 1 to 50; got 0"],
  },
  {
    name: "Kubernetes: HPA minimum 0",
    stack: "prod",
    changes: () => ({ "chatapi:api": JSON.stringify({ autoscaling: { minReplicas: 0 } }) }),
    expect: ["chatapi:api.autoscaling.minReplicas: is out of range; expected an integer from 1 to 50; got 0"],
  },
  {
    name: "Kubernetes: provided TLS without the certificate and key",
    stack: "prod",
    changes: () => ({ "chatapi:tls": JSON.stringify({ mode: "provided" }) }),
    expect: [
      'chatapi:tlsCertificate: is required when chatapi:tls.mode is "provided"',
      'chatapi:tlsPrivateKey: is required when chatapi:tls.mode is "provided"',
    ],
  },
  {
    name: "Kubernetes: ACME without an issuer and without a Gateway to answer HTTP-01",
    stack: "prod",
    changes: () => ({ "chatapi:tls": JSON.stringify({ mode: "acme", acmeEmail: "ops@example.com" }) }),
    expect: [
      'chatapi:tls.issuerName: is required when chatapi:tls.mode is "acme" and chatapi:kubernetes.gatewayClassName is unset',
    ],
  },
  {
    name: "Kubernetes: an ACME Issuer of the stack's own without an e-mail",
    stack: "prod",
    changes: () => ({
      "chatapi:tls": JSON.stringify({ mode: "acme" }),
      "chatapi:kubernetes": JSON.stringify({ gatewayClassName: "eg" }),
    }),
    expect: [
      'chatapi:tls.acmeEmail: is required when chatapi:tls.mode is "acme" and the stack creates the ACME Issuer',
    ],
  },
  {
    name: "Kubernetes: an issuer name while TLS is provided",
    stack: "prod",
    changes: () => ({
      "chatapi:tls": JSON.stringify({ mode: "self-signed", issuerName: "letsencrypt-prod" }),
    }),
    expect: ['chatapi:tls.issuerName: is set but chatapi:tls.mode is "self-signed" (it would be ignored)'],
  },
  {
    name: "Kubernetes: the default namespace",
    stack: "prod",
    changes: () => ({ "chatapi:kubernetes": JSON.stringify({ namespace: "default" }) }),
    expect: [
      'chatapi:kubernetes.namespace: is not valid; expected a DNS label other than default; got "default"',
    ],
  },
  {
    name: "Kubernetes: an unknown Service type",
    stack: "prod",
    changes: () => ({ "chatapi:kubernetes": JSON.stringify({ serviceType: "Ingress" }) }),
    expect: [
      'chatapi:kubernetes.serviceType: is not an allowed value; expected one of "LoadBalancer", "NodePort", "ClusterIP"; got "Ingress"',
    ],
  },
  {
    name: "Kubernetes: PDB maxUnavailable 0 (would block every drain)",
    stack: "prod",
    changes: () => ({ "chatapi:kubernetes": JSON.stringify({ pdbMaxUnavailable: 0 }) }),
    expect: [
      "chatapi:kubernetes.pdbMaxUnavailable: is out of range; expected an integer from 1 to 10; got 0",
    ],
  },
  {
    name: "Kubernetes render mode on the Docker target",
    changes: () => ({ "chatapi:kubernetes": JSON.stringify({ renderYamlToDirectory: "out" }) }),
    expect: [
      'chatapi:kubernetes.renderYamlToDirectory: only applies to the kubernetes target; expected unset; got "out"',
    ],
  },
  {
    name: "a data store running as root",
    changes: () => ({ "chatapi:postgres": JSON.stringify({ runAs: "0:0" }) }),
    expect: [
      'chatapi:postgres.runAs: runs the process as root; expected a non-root uid:gid such as 999:999; got "0:0"',
    ],
  },
  {
    name: "a secret kept in plain text in the stack file",
    changes: () => ({ "chatapi:sentryDsn": "https://abc@sentry.example.com/1" }),
    expect: [
      "chatapi:sentryDsn: is stored in plain text in the stack file",
      "pulumi config set --secret chatapi:sentryDsn",
    ],
  },
  {
    name: "a certificate for another host",
    stack: "dockerhost",
    changes: () => ({}),
    secrets: () => {
      const other = makeCertificate("other.example.org");
      return { "chatapi:tlsCertificate": other.certificate, "chatapi:tlsPrivateKey": other.privateKey };
    },
    expect: ['chatapi:tlsCertificate: does not cover chatapi:domain "chat.example.com"'],
  },
  {
    name: "a private key that does not belong to the certificate",
    stack: "dockerhost",
    changes: () => ({}),
    secrets: () => ({
      "chatapi:tlsCertificate": tls.certificate,
      "chatapi:tlsPrivateKey": makeCertificate("chat.example.com").privateKey,
    }),
    expect: ["chatapi:tlsPrivateKey: does not belong to chatapi:tlsCertificate"],
  },
];

describe("bad stack config", () => {
  it.each(badCases)("$name", (bad) => {
    const source = stackConfig(bad.stack ?? "local", bad.changes(), bad.secrets?.() ?? {});
    const message = problems(() => loadStackConfig(source));
    for (const text of bad.expect) expect(message).toContain(text);
  });

  it("shows a bad secret as [secret], never its value", () => {
    const source = stackConfig(
      "local",
      { "chatapi:postgres": JSON.stringify({ mode: "external" }) },
      {
        "chatapi:databaseUrl": "mysql://app:hunter2-secret@db.example.com/chat",
      },
    );
    const message = problems(() => loadStackConfig(source));
    expect(message).toContain(
      "chatapi:databaseUrl: is not valid; expected a postgresql:// URL; got [secret]",
    );
    expect(message).not.toContain("hunter2");
  });

  it("never prints a secret that is set where it does not belong", () => {
    const source = stackConfig("local", {}, { "chatapi:tlsPrivateKey": tls.privateKey });
    const message = problems(() => loadStackConfig(source));
    expect(message).toContain('chatapi:tlsPrivateKey: is set but chatapi:tls.mode is "self-signed"');
    expect(message).not.toContain("PRIVATE KEY");
  });

  it("lists every violation in one error", () => {
    const source = stackConfig("local", {
      "chatapi:target": "swarm",
      "chatapi:api": JSON.stringify({ replicas: 0, replica: 2 }),
      "chatapi:backup": JSON.stringify({ schedule: "nightly" }),
      "chatapi:images": JSON.stringify({ redis: "redis" }),
    });
    const message = problems(() => loadStackConfig(source));
    for (const key of [
      "chatapi:target",
      "chatapi:api.replicas",
      "chatapi:api.replica",
      "chatapi:backup.schedule",
      "chatapi:images.redis",
    ]) {
      expect(message).toContain(`  - ${key}:`);
    }
    expect(message).toMatch(/\(5 problems\)/);
  });
});

describe("secrets that are set but cannot be read (scripts/render without the Pulumi CLI)", () => {
  it("count as set, so the plan includes them, and their content is not checked", () => {
    const source = stackConfig("prod", { "chatapi:tls": JSON.stringify({ mode: "provided" }) });
    const config = loadStackConfig({
      ...source,
      secretKeys: [
        ...source.secretKeys,
        "chatapi:tlsCertificate",
        "chatapi:tlsPrivateKey",
        "chatapi:smtpPassword",
      ],
      unreadableSecrets: ["chatapi:tlsCertificate", "chatapi:tlsPrivateKey", "chatapi:smtpPassword"],
    });
    expect(Object.keys(config.secrets).sort()).toEqual(["smtpPassword", "tlsCertificate", "tlsPrivateKey"]);
  });
});
