// The shipped nginx in front of attack instances: the local stack's plan rendered by the toolkit
// and run by the real nginx on loopback (test/support/nginx swaps in only ports, paths and the
// upstream addresses). An attacker reaches it the way clients do: over TLS, from an address of
// its own (any of 127.0.0.0/8), writing whatever headers it likes.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPlan } from "../../../components/plan/build-plan";
import type { LoadBalancerPlan } from "../../../components/plan/types";
import { loadStackConfig } from "../../../components/config/load";
import { readStackFile } from "../../../components/config/stack-file";
import { startNginx, stop, writeLoopbackConfig } from "../../../test/support/nginx";
import { makeCertificate } from "../../../test/support/tls-fixture";
import { freePort } from "../../../toolbox/processes";
import { type Instance, type InstanceOptions, repoRoot, startInstance } from "./instance";

export interface EdgeReply {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface Edge {
  /** https://127.0.0.1:<port> */
  url: string;
  /** For WebSocket clients (wss://): the CA and the name in the certificate. */
  tls: { ca: string; servername: string };
  request(
    method: string,
    path: string,
    options?: { headers?: Record<string, string>; body?: unknown; from?: string },
  ): Promise<EdgeReply>;
  /** Everything nginx logged so far: its access log and its error log. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startEdge(
  upstreams: { port: number }[],
  change: (lb: LoadBalancerPlan) => LoadBalancerPlan = (lb) => lb,
): Promise<Edge> {
  const file = readStackFile(repoRoot, "local");
  const plan = buildPlan({
    config: loadStackConfig({ stack: "local", ...file, appVersion: "1.0.0" }),
    appVersion: "1.0.0",
  });
  const dir = mkdtempSync(join(tmpdir(), "chatapi-chaos-edge-"));
  const tls = makeCertificate("localhost");
  let child: ChildProcess | undefined;
  try {
    const nginx = await writeLoopbackConfig(change(plan.loadBalancer), dir, {
      http: await freePort(),
      https: await freePort(),
      upstreams: upstreams.map((u) => ({ host: "127.0.0.1", port: u.port })),
      tls,
    });
    child = await startNginx(nginx);
    let errors = "";
    child.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const running = child;
    // Keep-alive connections, as a client library keeps them (per source address).
    const agent = new Agent({ keepAlive: true, maxSockets: 512 });
    return {
      url: `https://127.0.0.1:${nginx.https}`,
      tls: { ca: tls.certificate, servername: "localhost" },
      request: (method, path, options = {}) =>
        new Promise((resolve, reject) => {
          const body = options.body === undefined ? undefined : JSON.stringify(options.body);
          const req = request(
            {
              host: "127.0.0.1",
              port: nginx.https,
              servername: "localhost",
              ca: tls.certificate,
              method,
              path,
              agent,
              ...(options.from ? { localAddress: options.from } : {}),
              headers: { ...(body ? { "content-type": "application/json" } : {}), ...options.headers },
            },
            (res) => {
              let text = "";
              res.on("data", (chunk: Buffer) => (text += chunk.toString()));
              res.on("end", () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
            },
          );
          req.on("error", reject);
          req.end(body);
        }),
      logs: () => `${readFileSync(join(dir, "access.log"), "utf8")}\n${errors}`,
      stop: async () => {
        agent.destroy();
        await stop(running, "SIGQUIT");
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Two instances of one deployment behind the shipped nginx. */
export async function startDeployment(options: InstanceOptions = {}) {
  const a = await startInstance(options);
  let b: Instance | undefined;
  let edge: Edge | undefined;
  try {
    b = await a.sibling("chaos-b");
    edge = await startEdge([a, b]);
  } catch (error) {
    await b?.stop();
    await a.stop();
    throw error;
  }
  const [second, front] = [b, edge];
  return {
    a,
    b: second,
    edge: front,
    stop: async () => {
      await front.stop();
      await second.stop();
      await a.stop();
    },
  };
}
