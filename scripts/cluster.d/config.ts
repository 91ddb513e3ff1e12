// Everything scripts/cluster needs to know about the cluster, derived from the pinned versions
// (scripts/cluster.d/versions) and the environment's overrides. Pure: the same inputs give the
// same config, so it is unit-tested without a cluster.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const clusterDir = __dirname;

export interface Versions {
  kubernetes: string;
  etcd: string;
  coredns: string;
  localPathProvisioner: string;
  metricsServer: string;
  criTools: string;
}

/** Parses the versions file (KEY=value lines, # comments); every version must be there. */
export function parseVersions(text: string): Versions {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z_]+)=(\S+)\s*$/.exec(line.trim());
    if (match) values.set(match[1]!, match[2]!);
  }
  const get = (key: string) => {
    const value = values.get(key);
    if (!value) throw new Error(`scripts/cluster.d/versions pins no ${key}`);
    return value;
  };
  return {
    kubernetes: get("KUBERNETES_VERSION"),
    etcd: get("ETCD_VERSION"),
    coredns: get("COREDNS_VERSION"),
    localPathProvisioner: get("LOCAL_PATH_PROVISIONER_VERSION"),
    metricsServer: get("METRICS_SERVER_VERSION"),
    criTools: get("CRI_TOOLS_VERSION"),
  };
}

export function readVersions(): Versions {
  return parseVersions(readFileSync(join(clusterDir, "versions"), "utf8"));
}

export interface ClusterConfig {
  versions: Versions;
  /** pause.c from the k8s.io/kubernetes module, tagged after it. */
  pauseTag: string;
  cache: string;
  state: string;
  network: {
    podCidr: string;
    nodePodCidr: string;
    serviceCidr: string;
    clusterDns: string;
    apiServiceIp: string;
    /** Addresses for Services of type LoadBalancer. */
    lbCidr: string;
    clusterDomain: string;
    bridge: string;
    cniNetwork: string;
    cniBinDir: string;
  };
  ports: { api: number; etcdClient: number; etcdPeer: number; etcdMetrics: number };
  nodeName: string;
  /** Set by CHATAPI_NODE_IP; otherwise found from the routing table at run time. */
  nodeIpOverride: string | undefined;
  images: {
    localPrefix: string;
    pause: string;
    coredns: string;
    localPathProvisioner: string;
    helper: string;
    metricsServer: string;
  };
  /** Build output folders in the cache, one per tool and version (a folder is done when it holds .complete). */
  builds: {
    kubernetes: string;
    etcd: string;
    coredns: string;
    localPathProvisioner: string;
    criTools: string;
    metricsServer: string;
    pause: string;
  };
  paths: {
    pki: string;
    run: string;
    logs: string;
    containerdSocket: string;
    kubeconfigs: string;
    adminKubeconfig: string;
    volumes: string;
    manifests: string;
  };
}

export function clusterConfig(
  env: NodeJS.ProcessEnv = process.env,
  versions: Versions = readVersions(),
): ClusterConfig {
  const cache = env.CHATAPI_CACHE || join(homedir(), ".cache", "chatapi");
  const state = env.CHATAPI_CLUSTER_STATE || join(cache, "cluster");
  const etcdClient = port(env.CHATAPI_ETCD_PORT, 12379, "CHATAPI_ETCD_PORT");
  const pauseTag = `3.10-kubernetes-${versions.kubernetes}`;
  const local = "chatapi-local/";
  const kubeconfigs = join(state, "kubeconfig");
  return {
    versions,
    pauseTag,
    cache,
    state,
    network: {
      podCidr: env.CHATAPI_POD_CIDR || "10.244.0.0/16",
      nodePodCidr: env.CHATAPI_NODE_POD_CIDR || "10.244.0.0/24",
      serviceCidr: env.CHATAPI_SERVICE_CIDR || "10.96.0.0/16",
      clusterDns: env.CHATAPI_CLUSTER_DNS || "10.96.0.10",
      apiServiceIp: "10.96.0.1",
      lbCidr: env.CHATAPI_LB_CIDR || "10.97.0.0/24",
      clusterDomain: "cluster.local",
      bridge: "chatapi0",
      cniNetwork: "chatapi",
      cniBinDir: "/usr/lib/cni",
    },
    ports: {
      api: 6443,
      etcdClient,
      etcdPeer: port(env.CHATAPI_ETCD_PEER_PORT, 12380, "CHATAPI_ETCD_PEER_PORT"),
      etcdMetrics: etcdClient + 2,
    },
    nodeName: env.CHATAPI_NODE_NAME || "chatapi-node",
    nodeIpOverride: env.CHATAPI_NODE_IP || undefined,
    images: {
      localPrefix: local,
      pause: `${local}pause:${pauseTag}`,
      coredns: `${local}coredns:${versions.coredns}`,
      localPathProvisioner: `${local}local-path-provisioner:${versions.localPathProvisioner}`,
      helper: `${local}busybox:1.35-static`,
      metricsServer: `${local}metrics-server:${versions.metricsServer}`,
    },
    builds: {
      kubernetes: join(cache, `kubernetes-${versions.kubernetes}`),
      etcd: join(cache, `etcd-${versions.etcd}`),
      coredns: join(cache, `coredns-${versions.coredns}`),
      localPathProvisioner: join(cache, `local-path-provisioner-${versions.localPathProvisioner}`),
      criTools: join(cache, `cri-tools-${versions.criTools}`),
      metricsServer: join(cache, `metrics-server-${versions.metricsServer}`),
      pause: join(cache, `pause-${pauseTag}`),
    },
    paths: {
      pki: join(state, "pki"),
      run: join(state, "run"),
      logs: join(state, "logs"),
      containerdSocket: join(state, "containerd", "containerd.sock"),
      kubeconfigs,
      adminKubeconfig: join(kubeconfigs, "admin.kubeconfig"),
      volumes: join(state, "volumes"),
      manifests: join(state, "manifests"),
    },
  };
}

function port(value: string | undefined, fallback: number, name: string): number {
  if (!value) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Error(`${name} must be a TCP port, not '${value}'`);
  return n;
}

/** The images the cluster itself runs (imported into its containerd on every up). */
export const ownImages = (config: ClusterConfig): string[] => [
  config.images.pause,
  config.images.coredns,
  config.images.localPathProvisioner,
  config.images.helper,
  config.images.metricsServer,
];

/** The Kubernetes binaries built from k8s.io/kubernetes. */
export const KUBE_BINARIES = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "kube-proxy",
  "kubectl",
] as const;

export const kubectlPath = (config: ClusterConfig) => join(config.builds.kubernetes, "kubectl");
