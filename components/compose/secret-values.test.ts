// Secret values for a stack run without Pulumi: kept values win (the data volumes were made
// with them), config secrets are used as given, templates follow their parts, and what is
// missing is named all at once.
import { X509Certificate, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { repoRoot } from "../../test/support/paths";
import { makeCertificate } from "../../test/support/tls-fixture";
import { missingConfigSecrets, resolveSecretValues } from "./secret-values";
import {
  caUsable,
  createCertificateAuthority,
  issueServerCertificate,
  serverCertificateUsable,
} from "./self-signed-tls";

const password = (n: number) => `P${"a".repeat(n - 1)}`;
const selfSigned = { chain: "CHAIN", privateKey: "KEY" };
// Made per run: no credential-looking literal in git.
const kept = `kept${randomBytes(8).toString("hex")}`;

describe("resolveSecretValues", () => {
  const { plan } = loadStackPlan({ root: repoRoot, stack: "local" });

  it("generates what is missing, keeps what exists, and assembles URLs and config files from them", () => {
    const values = resolveSecretValues(plan, {
      existing: { postgres_password: kept },
      config: {},
      password,
      selfSigned,
    });
    expect(values.postgres_password).toBe(kept);
    expect(values.database_url).toBe(`postgresql://chatapi:${kept}@postgres:5432/chatapi`);
    expect(values.redis_password).toBe(password(32));
    expect(values.redis_conf).toContain(`requirepass ${password(32)}\n`);
    expect(values.rabbitmq_conf).toContain("default_user = chatapi\n");
    expect(values.secret_key).toHaveLength(64);
    expect(values.tls_certificate).toBe("CHAIN");
    // A kept URL is not reused: templates always follow their parts.
    const again = resolveSecretValues(plan, {
      existing: { ...values, database_url: "postgresql://stale" },
      config: {},
      password: () => "never-used",
      selfSigned,
    });
    expect(again).toEqual(values);
  });

  it("acme on a Docker host: no certificate among the secrets (certbot writes it for nginx)", () => {
    const { plan: acme } = loadStackPlan({
      root: repoRoot,
      stack: "acme",
      stackFile: "local",
      set: ["domain=chat.example.com", "tls.mode=acme", "tls.acmeEmail=ops@example.com"],
    });
    const values = resolveSecretValues(acme, { existing: {}, config: {}, password });
    expect(Object.keys(values)).not.toContain("tls_certificate");
    expect(values.database_url).toMatch(/^postgresql:\/\//);
  });

  it("prefers a config secret over a kept or generated value", () => {
    const values = resolveSecretValues(plan, {
      existing: { admin_api_key: "kept-key" },
      config: { adminApiKey: "configured-admin-key-0123456789" },
      password,
      selfSigned,
    });
    expect(values.admin_api_key).toBe("configured-admin-key-0123456789");
  });

  it("names every config secret a stack needs and was not given", () => {
    const cert = makeCertificate("chat.example.com", 90);
    const dockerhost = loadStackPlan({
      root: repoRoot,
      stack: "dockerhost",
      secrets: { tlsCertificate: cert.certificate, tlsPrivateKey: cert.privateKey, smtpPassword: "x" },
    }).plan;
    expect(missingConfigSecrets(dockerhost, {})).toEqual([
      "chatapi:smtpPassword",
      "chatapi:tlsCertificate",
      "chatapi:tlsPrivateKey",
    ]);
    expect(() => resolveSecretValues(dockerhost, { existing: {}, config: {}, password })).toThrow(
      "these config secrets are needed and were not given: chatapi:smtpPassword, chatapi:tlsCertificate, chatapi:tlsPrivateKey",
    );
    const values = resolveSecretValues(dockerhost, {
      existing: {},
      config: { smtpPassword: "smtp-pw", tlsCertificate: cert.certificate, tlsPrivateKey: cert.privateKey },
      password,
    });
    expect(values.tls_private_key).toBe(cert.privateKey);
    expect(values.smtp_password).toBe("smtp-pw");
  });
});

describe("self-signed TLS", () => {
  const tls = {
    mode: "self-signed" as const,
    commonName: "localhost",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
    validityHours: 24 * 365,
  };

  it("makes a CA and a server certificate it signs, for the plan's names, reused while valid", async () => {
    const ca = await createCertificateAuthority(tls);
    const server = await issueServerCertificate(tls, ca);
    const [leafPem] = server.chain.split(/(?<=-----END CERTIFICATE-----\n)/);
    const leaf = new X509Certificate(leafPem!);
    const caCert = new X509Certificate(ca.certificate);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(caCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(leaf.checkPrivateKey((await import("node:crypto")).createPrivateKey(server.privateKey))).toBe(
      true,
    );
    expect(server.chain).toContain(ca.certificate.trim());
    expect(caUsable(ca, tls)).toBe(true);
    expect(serverCertificateUsable(server.chain, ca, tls)).toBe(true);
    // Another name, another CA, or the renewal window: issue a new one.
    expect(serverCertificateUsable(server.chain, ca, { ...tls, dnsNames: ["chat.local"] })).toBe(false);
    expect(serverCertificateUsable(server.chain, await createCertificateAuthority(tls), tls)).toBe(false);
    const late = new Date(Date.now() + (365 - 20) * 24 * 3600 * 1000);
    expect(serverCertificateUsable(server.chain, ca, tls, late)).toBe(false);
  });
});
