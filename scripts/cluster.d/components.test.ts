import { describe, expect, it } from "vitest";
import { COMPONENTS, DOWN_STEPS, UP_STEPS, componentAddress, componentSpecs, downPlan } from "./components";
import { clusterConfig, readVersions } from "./config";

const config = clusterConfig({ CHATAPI_CACHE: "/c" }, readVersions());
const specs = componentSpecs(config, "192.0.2.7", {
  containerd: "/usr/bin/containerd",
  lbController: { binary: "/usr/bin/node", args: ["lb-controller.ts"] },
});
const before = <T>(list: readonly T[], a: T, b: T) =>
  list.indexOf(a) >= 0 && list.indexOf(a) < list.indexOf(b);

describe("up's order", () => {
  it("starts the control plane on etcd, and the node on containerd with its images imported", () => {
    expect(before(UP_STEPS, "host-network", "etcd")).toBe(true);
    expect(before(UP_STEPS, "certificates", "etcd")).toBe(true);
    expect(before(UP_STEPS, "cni-config", "containerd")).toBe(true);
    expect(before(UP_STEPS, "etcd", "kube-apiserver")).toBe(true);
    expect(before(UP_STEPS, "kube-apiserver", "kube-controller-manager")).toBe(true);
    expect(before(UP_STEPS, "kube-apiserver", "kube-scheduler")).toBe(true);
    expect(before(UP_STEPS, "containerd", "import-images")).toBe(true);
    // the pause image must be in containerd before the kubelet makes a pod sandbox
    expect(before(UP_STEPS, "import-images", "kubelet")).toBe(true);
    expect(before(UP_STEPS, "kubelet", "wait-node-registered")).toBe(true);
    expect(before(UP_STEPS, "wait-node-registered", "addons")).toBe(true);
    expect(before(UP_STEPS, "addons", "wait-addons")).toBe(true);
    expect(UP_STEPS.at(-1)).toBe("dns-check");
    for (const c of COMPONENTS) expect(UP_STEPS).toContain(c);
  });
});

describe("down's plan", () => {
  it("stops the node before the control plane, containerd after the pods, then cleans the host", () => {
    const order = [
      "lb-controller",
      "kubelet",
      "remove-pods",
      "containerd",
      "containerd-shims",
      "kube-proxy",
    ] as const;
    order.slice(1).forEach((step, i) => expect(before(DOWN_STEPS, order[i]!, step)).toBe(true));
    expect(before(DOWN_STEPS, "kube-proxy", "kube-apiserver")).toBe(true);
    expect(before(DOWN_STEPS, "kube-scheduler", "kube-apiserver")).toBe(true);
    expect(before(DOWN_STEPS, "kube-controller-manager", "kube-apiserver")).toBe(true);
    expect(before(DOWN_STEPS, "kube-apiserver", "etcd")).toBe(true);
    // kube-proxy's cleanup first, our sweep after it (it leaves chains behind)
    expect(before(DOWN_STEPS, "kube-proxy-cleanup", "iptables")).toBe(true);
    expect(before(DOWN_STEPS, "netns", "mounts")).toBe(true);
    for (const c of COMPONENTS) expect(DOWN_STEPS).toContain(c);
  });

  it("is only the purge (or nothing) when nothing is left on the host", () => {
    expect(downPlan(false, false)).toEqual([]);
    expect(downPlan(false, true)).toEqual(["purge"]);
    expect(downPlan(true, true)).toEqual([...DOWN_STEPS, "purge"]);
    expect(downPlan(true, false)).toEqual([...DOWN_STEPS]);
  });

  it("leaves the host-wide steps out while another cluster (another state folder) runs here", () => {
    const plan = downPlan(true, true, true);
    for (const step of ["kube-proxy-cleanup", "iptables", "bridge", "conntrack", "cgroups"] as const)
      expect(plan).not.toContain(step);
    expect(plan).toEqual(
      expect.arrayContaining(["kubelet", "etcd", "netns", "mounts", "run-files", "purge"]),
    );
  });
});

describe("the components' command lines", () => {
  it("kube-proxy: iptables mode with the flags this machine needs", () => {
    expect(specs["kube-proxy"].args).toEqual(
      expect.arrayContaining([
        "--proxy-mode=iptables",
        "--cluster-cidr=10.244.0.0/16",
        "--hostname-override=chatapi-node",
        "--nodeport-addresses=primary",
        "--metrics-bind-address=127.0.0.1:10249",
        "--healthz-bind-address=127.0.0.1:10256",
        "--conntrack-max-per-core=0",
      ]),
    );
  });

  it("kube-apiserver: 127.0.0.1 only, no endpoint reconciler, restricted by RBAC and no privileged pods", () => {
    const args = specs["kube-apiserver"].args;
    expect(args).toEqual(
      expect.arrayContaining([
        "--bind-address=127.0.0.1",
        "--secure-port=6443",
        "--advertise-address=192.0.2.7",
        "--endpoint-reconciler-type=none",
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=false",
        "--service-cluster-ip-range=10.96.0.0/16",
        "--token-auth-file=/c/cluster/pki/tokens.csv",
      ]),
    );
    expect(specs["kube-apiserver"].readiness).toEqual({ kind: "apiserver", seconds: 90 });
  });

  it("the controller-manager leaves LoadBalancer addresses to our controller", () => {
    expect(specs["kube-controller-manager"].args).toContain(
      "--controllers=*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
    );
  });

  it("etcd listens on 127.0.0.1 with client certificates; its health on the metrics port", () => {
    const etcd = specs.etcd;
    expect(etcd.binary).toBe("/c/etcd-v3.5.35/etcd");
    expect(etcd.args).toEqual(
      expect.arrayContaining(["--client-cert-auth", "--listen-client-urls", "https://127.0.0.1:12379"]),
    );
    expect(etcd.readiness).toEqual({
      kind: "http",
      url: "http://127.0.0.1:12381/health",
      seconds: 60,
      what: "etcd health",
    });
  });

  it("kubelet and the host's containerd get their own files in the state folder", () => {
    expect(specs.kubelet.args).toEqual(
      expect.arrayContaining([
        "--config=/c/cluster/kubelet/config.yaml",
        "--node-ip=192.0.2.7",
        "--root-dir=/c/cluster/kubelet/root",
      ]),
    );
    expect(specs.containerd).toMatchObject({
      binary: "/usr/bin/containerd",
      args: ["--config", "/c/cluster/containerd/config.toml"],
    });
    expect(specs["lb-controller"]).toMatchObject({ binary: "/usr/bin/node", args: ["lb-controller.ts"] });
  });

  it("status names where each component listens", () => {
    expect(COMPONENTS.map((c) => componentAddress(config, c, "192.0.2.7"))).toEqual([
      "https://127.0.0.1:12379",
      "https://127.0.0.1:6443",
      "https://127.0.0.1:10257",
      "https://127.0.0.1:10259",
      "unix:///c/cluster/containerd/containerd.sock",
      "https://192.0.2.7:10250",
      "http://127.0.0.1:10256/healthz",
      "LoadBalancer IPs from 10.97.0.0/24",
    ]);
  });
});
