// Runs the toolkit's rendered nginx.conf in the real nginx on loopback: the plan's config with
// only what must differ outside a container swapped in (listen address and ports, file
// paths, upstream addresses), so every other directive is the one the targets deploy.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { FFDHE2048_PEM } from "../../components/nginx/mozilla-tls";
import { renderNginxConfig } from "../../components/nginx/render-nginx-config";
import type { LoadBalancerPlan, UpstreamServerPlan } from "../../components/plan/types";
import { waitFor } from "../../toolbox/processes";
import type { TlsFixture } from "./tls-fixture";

const run = promisify(execFile);

/** major.minor of the nginx on this machine, so the config uses the directives it knows. */
export async function installedNginxVersion(): Promise<string> {
  const { stderr } = await run("nginx", ["-v"]);
  const match = /nginx\/(\d+\.\d+)/.exec(stderr);
  if (!match) throw new Error(`cannot read the nginx version from: ${stderr}`);
  return match[1]!;
}

export interface LoopbackNginx {
  dir: string;
  confPath: string;
  http: number;
  https: number;
}

export async function writeLoopbackConfig(
  lb: LoadBalancerPlan,
  dir: string,
  options: { http: number; https: number; upstreams: UpstreamServerPlan[]; tls: TlsFixture },
): Promise<LoopbackNginx> {
  mkdirSync(join(dir, "tmp"), { recursive: true });
  writeFileSync(join(dir, "cert.pem"), options.tls.certificate);
  writeFileSync(join(dir, "key.pem"), options.tls.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, "dhparam.pem"), FFDHE2048_PEM);
  const local: LoadBalancerPlan = {
    ...lb,
    nginxVersion: await installedNginxVersion(),
    listen: { http: options.http, https: options.https },
    public: { ...lb.public, http: options.http, https: options.https },
    upstream: { kind: "static", servers: options.upstreams },
    paths: {
      certificate: join(dir, "cert.pem"),
      privateKey: join(dir, "key.pem"),
      dhParams: join(dir, "dhparam.pem"),
      pidFile: join(dir, "nginx.pid"),
      tempDir: join(dir, "tmp"),
    },
  };
  const confPath = join(dir, "nginx.conf");
  const config = renderNginxConfig(local, { listenAddress: "127.0.0.1", accessLog: join(dir, "access.log") });
  // In its container nginx is one non-root user, workers included, and the workers read the
  // certificate at each handshake. Started as root here, nginx would run its workers as nobody,
  // who cannot read the key: the same one user for both, as in the container.
  const asRoot = process.getuid?.() === 0;
  writeFileSync(confPath, asRoot ? config.replace(/^(worker_processes .*)$/m, "user root;\n$1") : config);
  return { dir, confPath, http: options.http, https: options.https };
}

/** `nginx -t` on a config file; resolves with nginx's report, rejects with it. */
export async function nginxTest(nginx: LoopbackNginx): Promise<string> {
  try {
    const { stderr } = await run("nginx", ["-t", "-p", nginx.dir, "-e", "stderr", "-c", nginx.confPath]);
    return stderr;
  } catch (error) {
    throw new Error(`nginx -t failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });

export async function startNginx(nginx: LoopbackNginx): Promise<ChildProcess> {
  const child = spawn("nginx", ["-p", nginx.dir, "-e", "stderr", "-c", nginx.confPath], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let errors = "";
  child.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  await waitFor(`nginx listening on 127.0.0.1:${nginx.https} (${errors})`, async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${errors}`);
    return (await listening(nginx.https)) && (await listening(nginx.http));
  });
  return child;
}

export async function stop(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
