// A throwaway CA-less certificate and key made with openssl (installed by scripts/setup), for
// tests that need real PEM material: provided-TLS config validation and real nginx.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TlsFixture {
  certificate: string;
  privateKey: string;
}

export function makeCertificate(domain: string, days = 30): TlsFixture {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        String(days),
        "-subj",
        `/CN=${domain}`,
        "-addext",
        `subjectAltName=DNS:${domain},IP:127.0.0.1`,
      ],
      { stdio: "pipe" },
    );
    return {
      certificate: readFileSync(join(dir, "cert.pem"), "utf8"),
      privateKey: readFileSync(join(dir, "key.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A tcp:// Docker engine's TLS material: a CA, a client certificate and key, as the config secrets. */
export function dockerEngineTls() {
  const ca = makeCertificate("docker-ca.example.com");
  const client = makeCertificate("deployer");
  const secrets = {
    "chatapi:dockerCaCertificate": ca.certificate,
    "chatapi:dockerClientCertificate": client.certificate,
    "chatapi:dockerClientKey": client.privateKey,
  };
  return { ca, client, secrets };
}
