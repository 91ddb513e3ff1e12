// The configuration files the cluster's daemons read, rendered from the config. Pure.
import { join } from "node:path";
import { stringify } from "yaml";
import type { ClusterConfig } from "./config";

/** A kubeconfig with a bearer token for the local API server (context chatapi-local). */
export function kubeconfig(config: ClusterConfig, caCrt: string, user: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "chatapi-local",
        cluster: {
          server: `https://127.0.0.1:${config.ports.api}`,
          "certificate-authority-data": Buffer.from(caCrt).toString("base64"),
        },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: "chatapi-local", context: { cluster: "chatapi-local", user } }],
    "current-context": "chatapi-local",
  });
}

/** The identities that authenticate with a static token (tokens.csv), and their kubeconfig files. */
export const TOKEN_USERS = [
  { user: "kubernetes-admin", groups: ["system:masters"], kubeconfig: "admin" },
  { user: "system:kube-controller-manager", groups: [], kubeconfig: "controller-manager" },
  { user: "system:kube-scheduler", groups: [], kubeconfig: "scheduler" },
  { user: "system:node:NODE", groups: ["system:nodes"], kubeconfig: "kubelet" },
  { user: "system:kube-proxy", groups: [], kubeconfig: "kube-proxy" },
] as const;

export const tokenUser = (config: ClusterConfig, user: string) => user.replace("NODE", config.nodeName);

/** The API server's --token-auth-file: token,user,uid[,"group,..."]. */
export function tokensCsv(config: ClusterConfig, tokens: string[]): string {
  return TOKEN_USERS.map((u, i) => {
    const user = tokenUser(config, u.user);
    const groups = u.groups.length > 0 ? `,"${u.groups.join(",")}"` : "";
    return `${tokens[i]},${user},${user}${groups}\n`;
  }).join("");
}

/** The admin token, read back from tokens.csv. */
export function adminToken(csv: string): string | undefined {
  return csv
    .split("\n")
    .map((line) => line.split(","))
    .find((fields) => fields[1] === "kubernetes-admin")?.[0];
}

export function kubeletConfig(config: ClusterConfig): string {
  const pki = config.paths.pki;
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    address: "0.0.0.0",
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: join(pki, "ca.crt") },
    },
    authorization: { mode: "Webhook" },
    tlsCertFile: join(pki, "kubelet.crt"),
    tlsPrivateKeyFile: join(pki, "kubelet.key"),
    containerRuntimeEndpoint: `unix://${config.paths.containerdSocket}`,
    cgroupDriver: "cgroupfs",
    failCgroupV1: false,
    failSwapOn: false,
    clusterDNS: [config.network.clusterDns],
    clusterDomain: config.network.clusterDomain,
    resolvConf: "/etc/resolv.conf",
    maxPods: 110,
    // How often the kubelet syncs each pod, which is when a changed Secret reaches its mounted
    // files: 20 s instead of 1 min, so a renewed certificate is served within a minute.
    syncFrequency: "20s",
    serializeImagePulls: false,
    // imported images cannot be pulled again: never garbage-collect them
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      "memory.available": "100Mi",
      "nodefs.available": "2%",
      "imagefs.available": "2%",
      "nodefs.inodesFree": "2%",
    },
    rotateCertificates: false,
    serverTLSBootstrap: false,
    enableServer: true,
  });
}

const toml = (value: string | number | boolean | string[]): string =>
  Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(", ")}]` : JSON.stringify(value);

/** TOML of nested tables (JSON strings are valid TOML basic strings). */
function tomlTables(tables: [string, Record<string, string | number | boolean | string[]>][]): string {
  return tables
    .map(([name, keys]) => {
      const body = Object.entries(keys)
        .map(([k, v]) => `${k} = ${toml(v)}\n`)
        .join("");
      return name ? `[${name}]\n${body}` : body;
    })
    .join("");
}

/** containerd for the cluster: its own root, state and socket, separate from Docker's containerd. */
export function containerdConfig(config: ClusterConfig): string {
  const dir = join(config.state, "containerd");
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return (
    "# containerd for the chatapi local cluster: separate root/state/socket from Docker's containerd\n" +
    tomlTables([
      [
        "",
        {
          version: 2,
          root: join(dir, "root"),
          state: join(dir, "state"),
          disabled_plugins: ["aufs", "btrfs", "devmapper", "zfs"].map(
            (s) => `io.containerd.snapshotter.v1.${s}`,
          ),
        },
      ],
      ["grpc", { address: config.paths.containerdSocket }],
      ["ttrpc", { address: `${config.paths.containerdSocket}.ttrpc` }],
      ["metrics", { address: "" }],
      ['plugins."io.containerd.internal.v1.opt"', { path: join(dir, "opt") }],
      [
        cri,
        {
          sandbox_image: `docker.io/${config.images.pause}`,
          // no CAP_SYS_RESOURCE here
          restrict_oom_score_adj: true,
          enable_selinux: false,
          netns_mounts_under_state_dir: true,
          stream_server_address: "127.0.0.1",
          stream_server_port: "0",
        },
      ],
      [
        `${cri}.containerd`,
        { snapshotter: "overlayfs", default_runtime_name: "runc", discard_unpacked_layers: false },
      ],
      [`${cri}.containerd.runtimes.runc`, { runtime_type: "io.containerd.runc.v2" }],
      [`${cri}.containerd.runtimes.runc.options`, { SystemdCgroup: false, Root: join(dir, "runc") }],
      [
        `${cri}.cni`,
        { bin_dir: config.network.cniBinDir, conf_dir: join(config.state, "cni", "net.d"), max_conf_num: 1 },
      ],
    ])
  );
}

export const crictlConfig = (config: ClusterConfig) =>
  stringify({
    "runtime-endpoint": `unix://${config.paths.containerdSocket}`,
    "image-endpoint": `unix://${config.paths.containerdSocket}`,
    timeout: 20,
  });

/** The CNI network: a bridge with host-local addresses from the node's pod CIDR, and portmap. */
export function cniConflist(config: ClusterConfig): string {
  return `${JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: config.network.cniNetwork,
      plugins: [
        {
          type: "bridge",
          bridge: config.network.bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            dataDir: join(config.state, "cni", "ipam"),
            ranges: [[{ subnet: config.network.nodePodCidr }]],
            routes: [{ dst: "0.0.0.0/0" }],
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}
