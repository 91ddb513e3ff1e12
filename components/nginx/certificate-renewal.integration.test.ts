// The rendered nginx.conf reads its certificate at each TLS handshake (renderNginxConfig: the
// paths hold a variable), so a renewed certificate (cert-manager's Secret, certbot's files) is
// served by the next handshake with no reload: the master and its workers stay the same, and a
// connection opened before the renewal keeps working on the certificate it was made with.
import { renameSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlan } from "../plan/build-plan";
import { loadStackConfig } from "../config/load";
import { readStackFile } from "../config/stack-file";
import { type LoopbackNginx, startNginx, stop, writeLoopbackConfig } from "../../test/support/nginx";
import { repoRoot } from "../../test/support/paths";
import { freePort } from "../../toolbox/processes";
import { makeCertificate, type TlsFixture } from "../../test/support/tls-fixture";

const work = mkdtempSync(join(tmpdir(), "chatapi-nginx-renewal-"));
let nginx: LoopbackNginx;
let master: ChildProcess;
const first = makeCertificate("localhost");
const renewed = makeCertificate("localhost");

/** An open TLS connection to nginx, and the certificate it was shown. */
function open(): Promise<{ socket: TLSSocket; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port: nginx.https,
      servername: "localhost",
      rejectUnauthorized: false,
    });
    socket.once("secureConnect", () =>
      resolve({ socket, fingerprint: socket.getPeerCertificate().fingerprint256 }),
    );
    socket.once("error", reject);
  });
}

/** One HTTP/1.1 keep-alive request on an open connection; resolves with the status line. */
function request(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (/\r\n\r\n/.test(text) && /"not_found"/.test(text)) {
        socket.off("data", onData);
        resolve(text.split("\r\n")[0]!);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write("GET /nothing-here HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
  });
}

const fingerprintOf = (tls: TlsFixture) =>
  execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256"], { input: tls.certificate })
    .toString()
    .trim()
    .replace(/^.*=/, "");

/** Replaces a file the way cert-manager's kubelet and certbot's hook do: atomically. */
function replace(path: string, content: string): void {
  writeFileSync(`${path}.new`, content, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

const workerPids = () =>
  execFileSync("ps", ["--ppid", String(master.pid), "-o", "pid="])
    .toString()
    .trim()
    .split(/\s+/)
    .sort();

beforeAll(async () => {
  const file = readStackFile(repoRoot, "local");
  const plan = buildPlan({
    config: loadStackConfig({ stack: "local", ...file, appVersion: "1.0.0" }),
    appVersion: "1.0.0",
  });
  nginx = await writeLoopbackConfig(plan.loadBalancer, work, {
    http: await freePort(),
    https: await freePort(),
    upstreams: [{ host: "127.0.0.1", port: await freePort() }],
    tls: first,
  });
  master = await startNginx(nginx);
});

afterAll(async () => {
  await stop(master);
  rmSync(work, { recursive: true, force: true });
});

describe("a renewed certificate in nginx (rendered config, real nginx)", () => {
  it("is served by the next handshake, without a reload, and a connection made before keeps working", async () => {
    const before = await open();
    expect(before.fingerprint).toBe(fingerprintOf(first));
    expect(await request(before.socket)).toBe("HTTP/1.1 404 Not Found");
    const workers = workerPids();

    replace(join(work, "cert.pem"), renewed.certificate);
    replace(join(work, "key.pem"), renewed.privateKey);
    const after = await open();
    expect(after.fingerprint).toBe(fingerprintOf(renewed));
    expect(await request(after.socket)).toBe("HTTP/1.1 404 Not Found");

    // The old connection: still open, still answered, on the same workers (nothing reloaded).
    expect(await request(before.socket)).toBe("HTTP/1.1 404 Not Found");
    expect(before.socket.getPeerCertificate().fingerprint256).toBe(fingerprintOf(first));
    expect(workerPids()).toEqual(workers);
    before.socket.destroy();
    after.socket.destroy();
  });
});
