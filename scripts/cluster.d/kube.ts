// Talking to the running cluster: its kubectl with the admin kubeconfig, and the health checks
// up, status and the lb-controller use.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { Options } from "execa";
import { type ClusterConfig, kubectlPath } from "./config";
import { run, tryOutput } from "../../toolbox/exec";
import { adminToken } from "./render";

export const kubectl = (config: ClusterConfig, args: string[], options: Options = {}) =>
  run(kubectlPath(config), ["--kubeconfig", config.paths.adminKubeconfig, ...args], options);

/** kubectl's stdout, or undefined when it fails. */
export const kubectlOutput = (config: ClusterConfig, args: string[]) =>
  tryOutput(kubectlPath(config), ["--kubeconfig", config.paths.adminKubeconfig, ...args]);

/** GET /readyz of the API server with the admin token: "ok" when it serves. */
export function apiserverReady(config: ClusterConfig): Promise<boolean> {
  let ca: string, token: string | undefined;
  try {
    ca = readFileSync(join(config.paths.pki, "ca.crt"), "utf8");
    token = adminToken(readFileSync(join(config.paths.pki, "tokens.csv"), "utf8"));
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: config.ports.api,
        path: "/readyz",
        ca,
        headers: { authorization: `Bearer ${token}` },
        timeout: 5000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** Whether a plain-HTTP health endpoint answers 2xx. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return response.ok;
  } catch {
    return false;
  }
}

export const nodeReadyStatus = (config: ClusterConfig) =>
  kubectlOutput(config, [
    "get",
    "node",
    config.nodeName,
    "-o",
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  ]);

export const availableReplicas = async (config: ClusterConfig, namespace: string, deployment: string) =>
  Number(
    (await kubectlOutput(config, [
      "-n",
      namespace,
      "get",
      "deploy",
      deployment,
      "-o",
      "jsonpath={.status.availableReplicas}",
    ])) || 0,
  );
