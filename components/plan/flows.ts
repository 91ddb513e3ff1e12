// Who talks to whom: the allowed connections, from which Docker networks (and, for the
// Kubernetes target, NetworkPolicies) follow. Data stores are reached only by the app's
// processes, on their own ports; only nginx faces clients.
import type { StackSettings } from "../config/types";
import type { FlowPlan, NetworkAttachmentPlan, NetworkName, NetworkPlan, Role, WorkloadPlan } from "./types";
import { API_PORT } from "./workloads/app";
import { FANOUT_CLUSTER_BUS_PORT, FANOUT_CLUSTER_PORT } from "./workloads/fanout-cluster";

const STORE_PORTS = { postgres: 5432, redis: 6379, rabbitmq: 5672 } as const;

export function planFlows(s: StackSettings, workloads: WorkloadPlan[], sentry: boolean): FlowPlan[] {
  const present = new Set(workloads.map((w) => w.role));
  // Without nginx (Kubernetes with a Gateway) the Gateway's data plane reaches the API instead.
  const flows: FlowPlan[] = present.has("nginx")
    ? [{ from: "nginx", to: "api", port: API_PORT, purpose: "REST and WebSocket traffic" }]
    : [];
  const uses: Record<string, ("postgres" | "redis" | "rabbitmq")[]> = {
    api: ["postgres", "redis", "rabbitmq"],
    worker: ["postgres", "redis", "rabbitmq"],
    migrate: ["postgres"],
    "bootstrap-admin": ["postgres"],
    backup: ["postgres"],
  };
  for (const [from, stores] of Object.entries(uses) as [Role, ("postgres" | "redis" | "rabbitmq")[]][]) {
    if (!present.has(from)) continue;
    for (const store of stores) {
      if (s[store].mode === "container") {
        flows.push({ from, to: store, port: STORE_PORTS[store], purpose: `${from} uses ${store}` });
      } else {
        flows.push({ from, to: "internet", port: STORE_PORTS[store], purpose: `managed ${store}` });
      }
    }
  }
  flows.push(...fanoutClusterFlows(s, present));
  if (s.smtp.host && present.has("worker")) {
    flows.push({ from: "worker", to: "internet", port: s.smtp.port, purpose: "SMTP e-mail" });
  }
  if (s.backup.s3 && present.has("backup")) {
    flows.push({ from: "backup", to: "internet", port: 443, purpose: "backup upload to S3" });
  }
  if (present.has("certbot")) {
    flows.push({ from: "certbot", to: "internet", port: 443, purpose: "ACME server (certificate orders)" });
  }
  if (sentry) {
    for (const from of ["api", "worker"] as const)
      flows.push({ from, to: "internet", port: 443, purpose: "Sentry" });
  }
  return flows;
}

export function planNetworks(prefix: string, flows: FlowPlan[]): NetworkPlan[] {
  const all: NetworkPlan[] = [
    {
      name: "public",
      resourceName: `${prefix}-public`,
      internal: false,
      isolatedFromHost: false,
      purpose: "published ports of nginx",
    },
    {
      name: "frontend",
      resourceName: `${prefix}-frontend`,
      internal: true,
      isolatedFromHost: true,
      purpose: "nginx to the API instances",
    },
    {
      name: "backend",
      resourceName: `${prefix}-backend`,
      internal: true,
      isolatedFromHost: true,
      purpose: "the app to its data stores",
    },
    {
      name: "monitoring",
      resourceName: `${prefix}-monitoring`,
      internal: true,
      isolatedFromHost: true,
      purpose: "Prometheus to the exporters that need no data store",
    },
    {
      name: "fanout",
      resourceName: `${prefix}-fanout`,
      internal: true,
      isolatedFromHost: true,
      purpose: "the API to the fan-out's Redis Cluster (fanoutCluster.mode container)",
    },
    {
      name: "egress",
      resourceName: `${prefix}-egress`,
      internal: false,
      isolatedFromHost: false,
      purpose: "outbound: SMTP, S3, Sentry, managed services",
    },
  ];
  const needed = new Set<NetworkName>(["public", "frontend"]);
  for (const flow of flows) needed.add(networkOf(flow));
  return all.filter((network) => needed.has(network.name));
}

function networkOf(flow: FlowPlan): NetworkName {
  if (flow.network) return flow.network;
  if (flow.to === "internet") return "egress";
  return flow.from === "nginx" ? "frontend" : "backend";
}

/** Attaches each workload to the networks its flows need, with its role as alias where it is reached. */
export function attachNetworks(workloads: WorkloadPlan[], flows: FlowPlan[]): WorkloadPlan[] {
  return workloads.map((w) => {
    const attachments = new Map<NetworkName, Set<string>>();
    const attach = (network: NetworkName, alias?: string) => {
      const aliases = attachments.get(network) ?? new Set<string>();
      if (alias) aliases.add(alias);
      attachments.set(network, aliases);
    };
    // Published ports need a network with a route to the host (nginx; Prometheus on loopback).
    if (w.ports.some((port) => port.published)) attach("public");
    for (const flow of flows) {
      if (flow.from === w.role) attach(networkOf(flow));
      if (flow.to === w.role) attach(networkOf(flow), w.role);
    }
    const networks: NetworkAttachmentPlan[] = [...attachments].map(([network, aliases]) => ({
      network,
      aliases: [...aliases],
    }));
    return { ...w, networks };
  });
}

/** The sharded fan-out's Redis Cluster: the API to its nodes; in the stack, also node to node and the job. */
function fanoutClusterFlows(s: StackSettings, present: ReadonlySet<Role>): FlowPlan[] {
  const { mode, nodes } = s.fanoutCluster;
  if (mode === "external" && present.has("api")) {
    const ports = new Set(nodes.map((node) => Number(node.slice(node.lastIndexOf(":") + 1))));
    return [...ports].map((port) => ({
      from: "api",
      to: "internet",
      port,
      purpose: "Redis Cluster (sharded fan-out)",
    }));
  }
  if (mode !== "container" || !present.has("redis-cluster")) return [];
  // A network of its own on Docker: the job that forms the cluster shares none with the other stores.
  const to = "redis-cluster";
  const network = "fanout";
  return [
    { from: "api", to, port: FANOUT_CLUSTER_PORT, purpose: "sharded fan-out (SSUBSCRIBE/SPUBLISH)", network },
    { from: to, to, port: FANOUT_CLUSTER_PORT, purpose: "Redis Cluster replication and MEET", network },
    { from: to, to, port: FANOUT_CLUSTER_BUS_PORT, purpose: "Redis Cluster bus (gossip, failover)", network },
    { from: "redis-cluster-init", to, port: FANOUT_CLUSTER_PORT, purpose: "forms the cluster", network },
  ];
}
