// A TLS Secret renewed in place on the local cluster (what cert-manager does: the same Secret, new
// tls.crt and tls.key) and the time until nginx serves it, read from new TLS handshakes through a
// port-forward. The kubelet rewrites the mounted Secret files; nginx reads them at every handshake.
import { connect } from "node:tls";
import { execFileSync } from "node:child_process";
import type { LocalCluster } from "./local-cluster";
import { waitFor } from "../../toolbox/processes";

/** SHA-256 fingerprint of the certificate a new TLS connection is shown (Node's format). */
export function servedFingerprint(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
    socket.once("secureConnect", () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once("error", reject);
  });
}

/** The same fingerprint of a PEM certificate (the first of a chain), as openssl prints it. */
export function fingerprintOf(pem: string): string {
  return execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256"], { input: pem })
    .toString()
    .trim()
    .replace(/^.*=/, "");
}

/**
 * Replaces the data of a kubernetes.io/tls Secret in place and waits until a new handshake through
 * `port` shows the new certificate; returns the seconds that took (bounded by `timeoutMs`).
 */
export async function renewTlsSecret(
  cluster: LocalCluster,
  target: { namespace: string; secret: string; port: number; servername: string },
  renewed: { certificate: string; privateKey: string },
  timeoutMs = 3 * 60_000,
): Promise<number> {
  const data = {
    "tls.crt": Buffer.from(renewed.certificate).toString("base64"),
    "tls.key": Buffer.from(renewed.privateKey).toString("base64"),
  };
  await cluster.run([
    "patch",
    "secret",
    target.secret,
    "-n",
    target.namespace,
    "--type=merge",
    "-p",
    JSON.stringify({ data }),
  ]);
  const replacedAt = performance.now();
  const wanted = fingerprintOf(renewed.certificate);
  await waitFor(
    `nginx to serve the renewed certificate of Secret ${target.secret}`,
    async () => (await servedFingerprint(target.port, target.servername)) === wanted,
    timeoutMs,
  );
  return (performance.now() - replacedAt) / 1000;
}
