import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clusterConfig, clusterDir, parseVersions, readVersions } from "./config";

const env = { CHATAPI_CACHE: "/c" };

describe("the cluster's config", () => {
  it("keeps the cache layout builds and running clusters already use (no rebuild, same state dir)", () => {
    const config = clusterConfig(env, readVersions());
    expect(config.builds).toEqual({
      kubernetes: "/c/kubernetes-v1.33.13",
      etcd: "/c/etcd-v3.5.35",
      coredns: "/c/coredns-v1.15.0",
      localPathProvisioner: "/c/local-path-provisioner-v0.0.30",
      criTools: "/c/cri-tools-v1.34.0",
      metricsServer: "/c/metrics-server-v0.8.0",
      pause: "/c/pause-3.10-kubernetes-v1.33.13",
    });
    expect(config.state).toBe("/c/cluster");
    expect(config.paths.adminKubeconfig).toBe("/c/cluster/kubeconfig/admin.kubeconfig");
    expect(config.paths.containerdSocket).toBe("/c/cluster/containerd/containerd.sock");
    expect(config.images.pause).toBe("chatapi-local/pause:3.10-kubernetes-v1.33.13");
  });

  it("takes the network, ports, node and state from the environment", () => {
    const config = clusterConfig({
      ...env,
      CHATAPI_CLUSTER_STATE: "/s",
      CHATAPI_POD_CIDR: "10.50.0.0/16",
      CHATAPI_LB_CIDR: "10.51.0.0/24",
      CHATAPI_ETCD_PORT: "22379",
      CHATAPI_NODE_NAME: "n1",
      CHATAPI_NODE_IP: "192.0.2.9",
    });
    expect(config.state).toBe("/s");
    expect(config.network.podCidr).toBe("10.50.0.0/16");
    expect(config.network.lbCidr).toBe("10.51.0.0/24");
    expect(config.ports).toEqual({ api: 6443, etcdClient: 22379, etcdPeer: 12380, etcdMetrics: 22381 });
    expect(config.nodeName).toBe("n1");
    expect(config.nodeIpOverride).toBe("192.0.2.9");
  });

  it("refuses a port that is not one", () => {
    expect(() => clusterConfig({ ...env, CHATAPI_ETCD_PORT: "12x" })).toThrow(
      "CHATAPI_ETCD_PORT must be a TCP port, not '12x'",
    );
  });

  it("reads every pinned version, and names a missing one", () => {
    expect(readVersions().kubernetes).toBe("v1.33.13");
    const text = readFileSync(join(clusterDir, "versions"), "utf8").replace(/^ETCD_VERSION=.*$/m, "");
    expect(() => parseVersions(text)).toThrow("scripts/cluster.d/versions pins no ETCD_VERSION");
  });
});

describe("the scripts/cluster entry (bash)", () => {
  const entry = join(clusterDir, "..", "cluster");

  it("finds the same admin kubeconfig as config.ts, and runs the cluster's kubectl with it", () => {
    const cache = mkdtempSync(join(tmpdir(), "cluster-entry-"));
    try {
      const state = join(cache, "elsewhere");
      const config = clusterConfig({ CHATAPI_CACHE: cache, CHATAPI_CLUSTER_STATE: state });
      mkdirSync(join(state, "kubeconfig"), { recursive: true });
      writeFileSync(config.paths.adminKubeconfig, "apiVersion: v1\n");
      mkdirSync(config.builds.kubernetes, { recursive: true });
      // a stand-in kubectl that prints its arguments
      writeFileSync(join(config.builds.kubernetes, "kubectl"), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
      const run = (...args: string[]) =>
        execFileSync(entry, args, {
          encoding: "utf8",
          env: { ...process.env, CHATAPI_CACHE: cache, CHATAPI_CLUSTER_STATE: state },
        });
      expect(run("kubeconfig")).toBe(`${config.paths.adminKubeconfig}\n`);
      expect(run("kubectl", "get", "pods", "-A")).toBe(
        `--kubeconfig ${config.paths.adminKubeconfig} get pods -A\n`,
      );
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("says to run up when there is no kubeconfig yet", () => {
    const cache = mkdtempSync(join(tmpdir(), "cluster-entry-"));
    try {
      let message = "";
      try {
        execFileSync(entry, ["kubeconfig"], {
          encoding: "utf8",
          env: { ...process.env, CHATAPI_CACHE: cache },
          stdio: "pipe",
        });
      } catch (error) {
        message = String((error as { stderr: string }).stderr);
      }
      expect(message).toBe("[cluster] error: no kubeconfig yet: run scripts/cluster up\n");
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
