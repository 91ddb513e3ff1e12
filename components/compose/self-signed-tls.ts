// The self-signed TLS material of a stack deployed without Pulumi: the same shape as
// components/tls/self-signed-certificate.ts (@pulumi/tls) — a private ECDSA P-256 CA, valid
// three times as long as the server certificate it signs, and the server chain (server, CA).
// Made with @peculiar/x509 on Node's WebCrypto; kept between runs so the CA stays trusted.
import "reflect-metadata"; // @peculiar/x509 needs it loaded first
import { X509Certificate as NodeX509, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { TlsPlan } from "../plan/types";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const HOUR = 3600 * 1000;
/** Re-issue the server certificate this long before it expires (as earlyRenewalHours does). */
export const EARLY_RENEWAL_HOURS = 24 * 30;

export interface CertificateAuthority {
  certificate: string;
  privateKey: string;
}

export interface ServerCertificate {
  /** Server certificate followed by the CA certificate. */
  chain: string;
  privateKey: string;
}

type SelfSigned = Extract<TlsPlan, { mode: "self-signed" }>;

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error("no PEM private key");
  return await webcrypto.subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
}

const serial = () =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");

export async function createCertificateAuthority(
  plan: SelfSigned,
  now = new Date(),
): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=ChatAPI development CA (${plan.commonName}), O=ChatAPI`,
    notBefore: now,
    notAfter: new Date(now.getTime() + plan.validityHours * 3 * HOUR),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: cert.toString("pem") + "\n", privateKey: await exportKey(keys.privateKey) };
}

export async function issueServerCertificate(
  plan: SelfSigned,
  ca: CertificateAuthority,
  now = new Date(),
): Promise<ServerCertificate> {
  const caCert = new x509.X509Certificate(ca.certificate);
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const names = [
    ...plan.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...plan.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${plan.commonName}, O=ChatAPI`,
    issuer: caCert.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + plan.validityHours * HOUR),
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.privateKey),
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return {
    chain: `${cert.toString("pem")}\n${ca.certificate}`,
    privateKey: await exportKey(keys.privateKey),
  };
}

/** The CA can still sign a full-length server certificate. */
export function caUsable(ca: CertificateAuthority, plan: SelfSigned, now = new Date()): boolean {
  try {
    const cert = new x509.X509Certificate(ca.certificate);
    return cert.notAfter.getTime() - now.getTime() > plan.validityHours * HOUR;
  } catch {
    return false;
  }
}

/**
 * A kept server certificate is reused when it was signed by this CA, names exactly the
 * plan's DNS names and addresses, and is not within the early-renewal window.
 */
export function serverCertificateUsable(
  chain: string,
  ca: CertificateAuthority,
  plan: SelfSigned,
  now = new Date(),
): boolean {
  try {
    const cert = new x509.X509Certificate(chain);
    // Signed by this CA's key (a new CA has the same name, not the same key).
    if (!new NodeX509(chain).verify(new NodeX509(ca.certificate).publicKey)) return false;
    if (cert.notAfter.getTime() - now.getTime() < EARLY_RENEWAL_HOURS * HOUR) return false;
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const have = (san?.names.toJSON() ?? []).map((n) => `${n.type}:${n.value}`).sort();
    const want = [...plan.dnsNames.map((d) => `dns:${d}`), ...plan.ipAddresses.map((i) => `ip:${i}`)].sort();
    return JSON.stringify(have) === JSON.stringify(want);
  } catch {
    return false;
  }
}
