import { describe, expect, it } from "vitest";
import { clusterConfig, readVersions } from "./config";
import { mountsUnder, otherClusterPids, ourShims } from "./down";

describe("what down finds on the host", () => {
  it("our containerd's shims only (by the socket in their command line)", () => {
    const socket = "/c/cluster/containerd/containerd.sock";
    const shim = "/usr/bin/containerd-shim-runc-v2";
    expect(
      ourShims(
        [
          { pid: 10, exe: shim, cmdline: [shim, "-namespace", "k8s.io", "-id", "x", "-address", socket] },
          {
            pid: 11,
            exe: shim,
            cmdline: [shim, "-namespace", "moby", "-address", "/run/containerd/containerd.sock"],
          },
          { pid: 12, exe: shim, cmdline: [shim, "-address", `${socket}.other`] },
          { pid: 13, exe: "/usr/bin/containerd", cmdline: ["containerd", "-address", socket] },
          { pid: 14, exe: undefined, cmdline: [] },
        ],
        socket,
      ),
    ).toEqual([10]);
  });

  it("mounts under the state folder, deepest first, with escaped spaces decoded", () => {
    const mounts = [
      "proc /proc proc rw 0 0",
      "shm /c/cluster/containerd/state/io.containerd.grpc.v1.cri/sandboxes/a/shm tmpfs rw 0 0",
      "nsfs /c/cluster/containerd/state/netns/cni-1 nsfs rw 0 0",
      "overlay /c/cluster/containerd/state/netns/cni-1/inner overlay rw 0 0",
      "tmpfs /c/cluster/kubelet/root/pods/x/volumes/kubernetes.io~projected/kube\\040api tmpfs rw 0 0",
      "overlay /c/cluster-other/x overlay rw 0 0",
    ].join("\n");
    expect(mountsUnder(mounts, "/c/cluster")).toEqual([
      "/c/cluster/kubelet/root/pods/x/volumes/kubernetes.io~projected/kube api",
      "/c/cluster/containerd/state/io.containerd.grpc.v1.cri/sandboxes/a/shm",
      "/c/cluster/containerd/state/netns/cni-1/inner",
      "/c/cluster/containerd/state/netns/cni-1",
    ]);
  });

  it("the daemons of a cluster with another state folder (so that down leaves the host's network to it)", () => {
    const config = clusterConfig({ CHATAPI_CACHE: "/c", CHATAPI_CLUSTER_STATE: "/tmp/mine" }, readVersions());
    const k8s = config.builds.kubernetes;
    expect(
      otherClusterPids(
        [
          {
            pid: 1,
            exe: `${k8s}/kubelet`,
            cmdline: [`${k8s}/kubelet`, "--config=/c/cluster/kubelet/config.yaml"],
          },
          {
            pid: 2,
            exe: `${k8s}/kube-proxy`,
            cmdline: [`${k8s}/kube-proxy`, "--kubeconfig=/tmp/mine/kubeconfig/kube-proxy.kubeconfig"],
          },
          { pid: 3, exe: `${k8s}/kubectl`, cmdline: [`${k8s}/kubectl`, "port-forward"] },
          { pid: 4, exe: `${config.builds.etcd}/etcd`, cmdline: ["etcd", "--data-dir", "/c/cluster/etcd"] },
          {
            pid: 5,
            exe: "/usr/bin/containerd",
            cmdline: ["containerd", "--config", "/c/cluster/containerd/config.toml"],
          },
        ],
        config,
      ),
    ).toEqual([1, 4]);
  });
});
