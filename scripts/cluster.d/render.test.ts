import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { clusterConfig, readVersions } from "./config";
import { adminToken, cniConflist, containerdConfig, kubeconfig, kubeletConfig, tokensCsv } from "./render";

const config = clusterConfig({ CHATAPI_CACHE: "/c" }, readVersions());

describe("the daemons' configuration files", () => {
  it("containerd: its own root, state and socket, the local pause image, restrict_oom_score_adj (no CAP_SYS_RESOURCE)", () => {
    const toml = containerdConfig(config);
    for (const line of [
      "version = 2",
      'root = "/c/cluster/containerd/root"',
      'state = "/c/cluster/containerd/state"',
      '[grpc]\naddress = "/c/cluster/containerd/containerd.sock"',
      '[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "docker.io/chatapi-local/pause:3.10-kubernetes-v1.33.13"\nrestrict_oom_score_adj = true',
      "netns_mounts_under_state_dir = true",
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\nSystemdCgroup = false\nRoot = "/c/cluster/containerd/runc"',
      '[plugins."io.containerd.grpc.v1.cri".cni]\nbin_dir = "/usr/lib/cni"\nconf_dir = "/c/cluster/cni/net.d"\nmax_conf_num = 1',
      'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
    ])
      expect(toml).toContain(line);
  });

  it("kubelet: cluster DNS, cgroupfs, imported images never garbage-collected", () => {
    const kubelet = parse(kubeletConfig(config));
    expect(kubelet).toMatchObject({
      kind: "KubeletConfiguration",
      clusterDNS: ["10.96.0.10"],
      clusterDomain: "cluster.local",
      cgroupDriver: "cgroupfs",
      readOnlyPort: 0,
      authentication: { anonymous: { enabled: false } },
      containerRuntimeEndpoint: "unix:///c/cluster/containerd/containerd.sock",
      imageGCHighThresholdPercent: 100,
      syncFrequency: "20s",
    });
  });

  it("CNI: a bridge with hairpin mode and host-local addresses from the node's pod CIDR", () => {
    const cni = JSON.parse(cniConflist(config));
    expect(cni.plugins[0]).toMatchObject({
      type: "bridge",
      bridge: "chatapi0",
      hairpinMode: true,
      ipMasq: true,
      ipam: { type: "host-local", dataDir: "/c/cluster/cni/ipam", ranges: [[{ subnet: "10.244.0.0/24" }]] },
    });
    expect(cni.plugins[1].type).toBe("portmap");
  });

  it("tokens.csv and kubeconfigs: the admin in system:masters, the node in system:nodes", () => {
    const csv = tokensCsv(config, ["t1", "t2", "t3", "t4", "t5"]);
    expect(csv).toBe(
      [
        't1,kubernetes-admin,kubernetes-admin,"system:masters"',
        "t2,system:kube-controller-manager,system:kube-controller-manager",
        "t3,system:kube-scheduler,system:kube-scheduler",
        't4,system:node:chatapi-node,system:node:chatapi-node,"system:nodes"',
        "t5,system:kube-proxy,system:kube-proxy",
        "",
      ].join("\n"),
    );
    expect(adminToken(csv)).toBe("t1");
    const kc = parse(kubeconfig(config, "PEM", "kubernetes-admin", "t1"));
    expect(kc).toEqual({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "chatapi-local",
          cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": "UEVN" },
        },
      ],
      users: [{ name: "kubernetes-admin", user: { token: "t1" } }],
      contexts: [{ name: "chatapi-local", context: { cluster: "chatapi-local", user: "kubernetes-admin" } }],
      "current-context": "chatapi-local",
    });
  });
});
