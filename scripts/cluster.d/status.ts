// `scripts/cluster status`: one line per component, then the node and the add-ons when the API
// server answers.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { COMPONENTS, componentAddress } from "./components";
import type { ClusterConfig } from "./config";
import { apiserverReady, availableReplicas, nodeReadyStatus } from "./kube";
import { componentPid, running } from "./processes";

const row = (...columns: [string, number][]) => columns.map(([text, width]) => text.padEnd(width)).join(" ");

export async function status(config: ClusterConfig): Promise<string> {
  const ipFile = join(config.paths.pki, "node-ip");
  const ip = existsSync(ipFile) ? readFileSync(ipFile, "utf8").trim() : "?";
  const lines = COMPONENTS.map((c) => {
    const pid = componentPid(config, c);
    const address = componentAddress(config, c, ip);
    return pid === undefined
      ? `${c.padEnd(24)} stopped  ${"".padEnd(12)} ${address}`
      : `${c.padEnd(24)} running  pid ${String(pid).padEnd(8)} ${address}`;
  });
  if (running(config, "kube-apiserver") && (await apiserverReady(config))) {
    const ready = (await nodeReadyStatus(config)) ?? "?";
    const up = async (namespace: string, name: string) =>
      (await availableReplicas(config, namespace, name)) >= 1 ? "running" : "down";
    const net = config.network;
    lines.push(
      row(
        [`node/${config.nodeName}`, 24],
        [`Ready=${ready}`, 8],
        ["", 13],
        [`${ip} (pods ${net.nodePodCidr}, services ${net.serviceCidr})`, 0],
      ),
      row(
        ["coredns", 24],
        [await up("kube-system", "coredns"), 8],
        ["pod", 13],
        [`${net.clusterDns}:53 -> ${ip}:1053`, 0],
      ),
      row(
        ["local-path-provisioner", 24],
        [await up("local-path-storage", "local-path-provisioner"), 8],
        ["pod", 13],
        [`StorageClass local-path (default), ${config.paths.volumes}`, 0],
      ),
      row(
        ["metrics-server", 24],
        [await up("kube-system", "metrics-server"), 8],
        ["pod", 13],
        [`metrics.k8s.io via https://${ip}:10350`, 0],
      ),
    );
  }
  lines.push(`${"kubeconfig".padEnd(24)} ${config.paths.adminKubeconfig}`);
  return lines.map((l) => `${l}\n`).join("");
}
