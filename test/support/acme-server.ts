// A private ACME server for tests: Pebble (Let's Encrypt's test CA, built by scripts/setup from Go
// modules) with pebble-challtestsrv as its DNS server, each on ports of its own. Pebble's HTTPS
// endpoint gets a certificate from a CA made here (clients trust `serverCa`); it validates HTTP-01
// challenges by connecting to `<domain>:<httpPort>`, the name resolved by challtestsrv (127.0.0.1
// unless a test points it elsewhere). Every authorisation is checked anew (PEBBLE_AUTHZREUSE=0),
// without Pebble's random delays and nonce rejections.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority, issueServerCertificate } from "../../components/compose/self-signed-tls";
import { cacheDir, repoRoot } from "./paths";
import { freePort, waitFor } from "../../toolbox/processes";

/** The binary setup built: its tools.env line, else where setup puts it. */
function tool(name: "pebble" | "pebble-challtestsrv", variable: string): string {
  const version = /^PEBBLE_VERSION=(\S+)$/m.exec(
    readFileSync(join(repoRoot, "scripts", "lib", "setup-common.sh"), "utf8"),
  )?.[1];
  const path = process.env[variable] ?? join(cacheDir, `${name}-${version}`, name);
  if (!existsSync(path))
    throw new Error(`${path} is missing: run scripts/setup (it builds ${name} from Go modules)`);
  return path;
}

const listening = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });

export interface PebbleOptions {
  /** Address Pebble's ACME endpoint listens on (one the certbot container reaches). */
  host: string;
  /** Port of the stack's published HTTP listener, where Pebble validates HTTP-01. */
  httpPort: number;
  /** Validity of the certificates Pebble issues. */
  validitySeconds: number;
}

export class PrivatePebble {
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-pebble-"));
  private readonly children: ChildProcess[] = [];
  readonly output: string[] = [];
  serverCa = "";
  private port = 0;
  private managementPort = 0;
  private dnsPort = 0;
  private challengeManagementPort = 0;

  private constructor(private readonly options: PebbleOptions) {}

  get directoryUrl(): string {
    return `https://${this.options.host}:${this.port}/dir`;
  }

  static async start(options: PebbleOptions): Promise<PrivatePebble> {
    const pebble = new PrivatePebble(options);
    try {
      await pebble.launch();
    } catch (error) {
      await pebble.stop();
      throw error;
    }
    return pebble;
  }

  private spawnLogged(binary: string, args: string[], env: Record<string, string> = {}): void {
    const child = spawn(binary, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (c: Buffer) => this.output.push(c.toString()));
    child.stderr!.on("data", (c: Buffer) => this.output.push(c.toString()));
    this.children.push(child);
  }

  private async launch(): Promise<void> {
    const { host } = this.options;
    [this.port, this.managementPort, this.dnsPort, this.challengeManagementPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const tlsPlan = {
      mode: "self-signed" as const,
      commonName: "pebble",
      dnsNames: ["pebble", "localhost"],
      ipAddresses: [host, "127.0.0.1"],
      validityHours: 24,
    };
    const ca = await createCertificateAuthority(tlsPlan);
    const server = await issueServerCertificate(tlsPlan, ca);
    this.serverCa = ca.certificate;
    writeFileSync(join(this.dir, "cert.pem"), server.chain);
    writeFileSync(join(this.dir, "key.pem"), server.privateKey, { mode: 0o600 });
    writeFileSync(
      join(this.dir, "pebble.json"),
      JSON.stringify({
        pebble: {
          listenAddress: `${host}:${this.port}`,
          managementListenAddress: `127.0.0.1:${this.managementPort}`,
          certificate: join(this.dir, "cert.pem"),
          privateKey: join(this.dir, "key.pem"),
          httpPort: this.options.httpPort,
          tlsPort: await freePort(),
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
          keyAlgorithm: "ecdsa",
          profiles: { default: { description: "test", validityPeriod: this.options.validitySeconds } },
        },
      }),
    );
    this.spawnLogged(tool("pebble-challtestsrv", "CHATAPI_TEST_PEBBLE_CHALLTESTSRV"), [
      "-dnsserver",
      `127.0.0.1:${this.dnsPort}`,
      "-management",
      `127.0.0.1:${this.challengeManagementPort}`,
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-doh",
      "",
    ]);
    this.spawnLogged(
      tool("pebble", "CHATAPI_TEST_PEBBLE"),
      ["-config", join(this.dir, "pebble.json"), "-dnsserver", `127.0.0.1:${this.dnsPort}`],
      { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
    );
    await waitFor(
      `pebble on ${host}:${this.port} and its DNS server (${this.output.join("")})`,
      async () =>
        (await listening(host, this.port)) &&
        (await listening("127.0.0.1", this.managementPort)) &&
        (await listening("127.0.0.1", this.challengeManagementPort)),
      30_000,
    );
  }

  /** GET on Pebble's management interface (loopback, its own HTTPS certificate). */
  private management(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: this.managementPort, path, ca: this.serverCa, servername: "localhost" },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () =>
            res.statusCode === 200 ? resolve(text) : reject(new Error(`${path}: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  /** The root certificate of the chains Pebble issues (new for every Pebble run). */
  root(): Promise<string> {
    return this.management("/roots/0");
  }

  /** Points `host` at `addresses` in the DNS Pebble validates with (else 127.0.0.1). */
  async setAddress(host: string, addresses: string[] | undefined): Promise<void> {
    const path = addresses ? "/add-a" : "/clear-a";
    const body = JSON.stringify(addresses ? { host, addresses } : { host });
    const res = await fetch(`http://127.0.0.1:${this.challengeManagementPort}${path}`, {
      method: "POST",
      body,
    });
    if (!res.ok) throw new Error(`challtestsrv ${path}: HTTP ${res.status}`);
  }

  async stop(): Promise<void> {
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
