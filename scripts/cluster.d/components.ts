// The cluster's daemons in start order, with their command lines and what `status` shows for
// each; and the order of the steps of `up` and `down`. Pure (unit-tested): lifecycle.ts runs them.
import { join } from "node:path";
import type { ClusterConfig } from "./config";

export const COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "containerd",
  "kubelet",
  "kube-proxy",
  "lb-controller",
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** What up waits for after starting a component. */
export type Readiness =
  | { kind: "http"; url: string; seconds: number; what: string }
  | { kind: "apiserver"; seconds: number }
  | { kind: "containerd"; seconds: number }
  | { kind: "none" };

export interface ComponentSpec {
  name: ComponentName;
  /** "-> starting ..." line */
  title: string;
  binary: string;
  args: string[];
  readiness: Readiness;
}

/** Where `status` says each component listens. */
export function componentAddress(config: ClusterConfig, name: ComponentName, nodeIp: string): string {
  const addresses: Record<ComponentName, string> = {
    etcd: `https://127.0.0.1:${config.ports.etcdClient}`,
    "kube-apiserver": `https://127.0.0.1:${config.ports.api}`,
    "kube-controller-manager": "https://127.0.0.1:10257",
    "kube-scheduler": "https://127.0.0.1:10259",
    containerd: `unix://${config.paths.containerdSocket}`,
    kubelet: `https://${nodeIp}:10250`,
    "kube-proxy": "http://127.0.0.1:10256/healthz",
    "lb-controller": `LoadBalancer IPs from ${config.network.lbCidr}`,
  };
  return addresses[name];
}

/** The command line of every component (binaries: containerd's path and the lb-controller's runner). */
export function componentSpecs(
  config: ClusterConfig,
  nodeIp: string,
  hostBinaries: { containerd: string; lbController: { binary: string; args: string[] } },
): Record<ComponentName, ComponentSpec> {
  const { pki, kubeconfigs } = config.paths;
  const k8s = (binary: string) => join(config.builds.kubernetes, binary);
  const p = (file: string) => join(pki, file);
  const kc = (name: string) => join(kubeconfigs, `${name}.kubeconfig`);
  const { etcdClient, etcdPeer, etcdMetrics, api } = config.ports;
  const net = config.network;
  const clientAuth = (name: string) => [
    `--kubeconfig=${kc(name)}`,
    `--authentication-kubeconfig=${kc(name)}`,
    `--authorization-kubeconfig=${kc(name)}`,
  ];
  return {
    etcd: {
      name: "etcd",
      title: `starting etcd ${config.versions.etcd} (https://127.0.0.1:${etcdClient})`,
      binary: join(config.builds.etcd, "etcd"),
      args: [
        ...["--name", "chatapi", "--data-dir", join(config.state, "etcd")],
        ...["--listen-client-urls", `https://127.0.0.1:${etcdClient}`],
        ...["--advertise-client-urls", `https://127.0.0.1:${etcdClient}`],
        ...["--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`],
        ...["--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`],
        ...["--initial-cluster", `chatapi=http://127.0.0.1:${etcdPeer}`],
        ...["--listen-metrics-urls", `http://127.0.0.1:${etcdMetrics}`],
        ...["--cert-file", p("etcd-server.crt"), "--key-file", p("etcd-server.key")],
        ...["--client-cert-auth", "--trusted-ca-file", p("ca.crt")],
        ...["--snapshot-count", "10000", "--log-level", "warn"],
      ],
      readiness: {
        kind: "http",
        url: `http://127.0.0.1:${etcdMetrics}/health`,
        seconds: 60,
        what: "etcd health",
      },
    },
    "kube-apiserver": {
      name: "kube-apiserver",
      title: `starting kube-apiserver (https://127.0.0.1:${api})`,
      binary: k8s("kube-apiserver"),
      args: [
        "--bind-address=127.0.0.1",
        `--secure-port=${api}`,
        `--advertise-address=${nodeIp}`,
        // pods reach the API through hostNetwork add-ons, never through 10.96.0.1
        "--endpoint-reconciler-type=none",
        `--etcd-servers=https://127.0.0.1:${etcdClient}`,
        `--etcd-cafile=${p("ca.crt")}`,
        `--etcd-certfile=${p("etcd-client.crt")}`,
        `--etcd-keyfile=${p("etcd-client.key")}`,
        `--tls-cert-file=${p("apiserver.crt")}`,
        `--tls-private-key-file=${p("apiserver.key")}`,
        `--client-ca-file=${p("ca.crt")}`,
        `--token-auth-file=${p("tokens.csv")}`,
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        `--service-account-issuer=https://kubernetes.default.svc.${net.clusterDomain}`,
        `--service-account-key-file=${p("sa.pub")}`,
        `--service-account-signing-key-file=${p("sa.key")}`,
        `--service-cluster-ip-range=${net.serviceCidr}`,
        "--service-node-port-range=30000-32767",
        `--kubelet-client-certificate=${p("apiserver-kubelet-client.crt")}`,
        `--kubelet-client-key=${p("apiserver-kubelet-client.key")}`,
        `--kubelet-certificate-authority=${p("ca.crt")}`,
        "--kubelet-preferred-address-types=InternalIP",
        `--requestheader-client-ca-file=${p("front-proxy-ca.crt")}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--proxy-client-cert-file=${p("front-proxy-client.crt")}`,
        `--proxy-client-key-file=${p("front-proxy-client.key")}`,
        "--enable-aggregator-routing=true",
        "--allow-privileged=false",
        "--profiling=false",
        "--v=1",
      ],
      readiness: { kind: "apiserver", seconds: 90 },
    },
    "kube-controller-manager": {
      name: "kube-controller-manager",
      title: "starting kube-controller-manager",
      binary: k8s("kube-controller-manager"),
      args: [
        ...clientAuth("controller-manager"),
        "--bind-address=127.0.0.1",
        "--secure-port=10257",
        "--leader-elect=false",
        `--service-account-private-key-file=${p("sa.key")}`,
        `--root-ca-file=${p("ca.crt")}`,
        `--cluster-signing-cert-file=${p("ca.crt")}`,
        `--cluster-signing-key-file=${p("ca.key")}`,
        "--use-service-account-credentials=true",
        `--service-cluster-ip-range=${net.serviceCidr}`,
        `--cluster-cidr=${net.podCidr}`,
        "--allocate-node-cidrs=false",
        // LoadBalancer addresses come from our lb-controller; no cloud
        "--controllers=*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
        "--profiling=false",
        "--v=1",
      ],
      readiness: { kind: "none" },
    },
    "kube-scheduler": {
      name: "kube-scheduler",
      title: "starting kube-scheduler",
      binary: k8s("kube-scheduler"),
      args: [
        ...clientAuth("scheduler"),
        "--bind-address=127.0.0.1",
        "--secure-port=10259",
        "--leader-elect=false",
        "--profiling=false",
        "--v=1",
      ],
      readiness: { kind: "none" },
    },
    containerd: {
      name: "containerd",
      title: `starting containerd (CRI, socket ${config.paths.containerdSocket})`,
      binary: hostBinaries.containerd,
      args: ["--config", join(config.state, "containerd", "config.toml")],
      readiness: { kind: "containerd", seconds: 60 },
    },
    kubelet: {
      name: "kubelet",
      title: `starting kubelet (node ${config.nodeName}, IP ${nodeIp})`,
      binary: k8s("kubelet"),
      args: [
        `--config=${join(config.state, "kubelet", "config.yaml")}`,
        `--kubeconfig=${kc("kubelet")}`,
        `--root-dir=${join(config.state, "kubelet", "root")}`,
        `--hostname-override=${config.nodeName}`,
        `--node-ip=${nodeIp}`,
        "--v=1",
      ],
      readiness: {
        kind: "http",
        url: "http://127.0.0.1:10248/healthz",
        seconds: 60,
        what: "kubelet healthz",
      },
    },
    "kube-proxy": {
      name: "kube-proxy",
      title: "starting kube-proxy (iptables mode)",
      binary: k8s("kube-proxy"),
      args: [
        `--kubeconfig=${kc("kube-proxy")}`,
        "--proxy-mode=iptables",
        `--cluster-cidr=${net.podCidr}`,
        `--hostname-override=${config.nodeName}`,
        "--nodeport-addresses=primary",
        "--metrics-bind-address=127.0.0.1:10249",
        "--healthz-bind-address=127.0.0.1:10256",
        "--conntrack-max-per-core=0",
        "--v=1",
      ],
      readiness: {
        kind: "http",
        url: "http://127.0.0.1:10256/healthz",
        seconds: 60,
        what: "kube-proxy healthz",
      },
    },
    "lb-controller": {
      name: "lb-controller",
      title: `starting the LoadBalancer address controller (${net.lbCidr})`,
      binary: hostBinaries.lbController.binary,
      args: hostBinaries.lbController.args,
      readiness: { kind: "none" },
    },
  };
}

/** The steps of `up` from a stopped (or partly running) cluster, in order. */
export const UP_STEPS = [
  "host-network",
  "certificates",
  "cni-config",
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "containerd",
  "import-images",
  "kubelet",
  "kube-proxy",
  "wait-node-registered",
  "addons",
  "lb-controller",
  "wait-node-ready",
  "wait-addons",
  "dns-check",
] as const;
export type UpStep = (typeof UP_STEPS)[number];

/** The steps of `down`, in order: the node first (its pods need containerd to be torn down), then the control plane, then what they left on the host. */
export const DOWN_STEPS = [
  "lb-controller",
  "kubelet",
  "remove-pods",
  "containerd",
  "containerd-shims",
  "kube-proxy",
  "kube-scheduler",
  "kube-controller-manager",
  "kube-apiserver",
  "etcd",
  "kube-proxy-cleanup",
  "iptables",
  "bridge",
  "netns",
  "conntrack",
  "cni-ipam",
  "mounts",
  "cgroups",
  "run-files",
] as const;
export type DownStep = (typeof DOWN_STEPS)[number];

/** Steps that change what the whole host shares (one bridge, one set of iptables chains, one kubepods cgroup tree). */
export const HOST_WIDE_STEPS: readonly DownStep[] = [
  "kube-proxy-cleanup",
  "iptables",
  "bridge",
  "conntrack",
  "cgroups",
];

/**
 * What down does: nothing but the purge when nothing of the cluster is left on the host; and
 * none of the host-wide steps while another cluster (another state folder) runs here: they
 * would cut that cluster's pods off.
 */
export function downPlan(
  leftOnHost: boolean,
  purge: boolean,
  otherClusterRunning = false,
): (DownStep | "purge")[] {
  const steps = leftOnHost
    ? DOWN_STEPS.filter((s) => !otherClusterRunning || !HOST_WIDE_STEPS.includes(s))
    : [];
  return [...steps, ...(purge ? (["purge"] as const) : [])];
}
