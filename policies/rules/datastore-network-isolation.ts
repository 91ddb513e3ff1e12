import { DOCKER_NETWORK } from "../core/docker";
import { selectorMatches, selectsAll, stringMap } from "../core/kubernetes";
import {
  type Direction,
  directionsOf,
  networkPolicies,
  policiesSelecting,
  rulesOf,
} from "../core/network-policies";
import {
  APP_ROLES,
  DATA_STORE_MONITORING_ROLES,
  DATA_STORE_PORTS,
  type DataStore,
  isDataStore,
  isStoreJob,
} from "../core/roles";
import type { StackFinding, StackRule, Subject } from "../core/types";
import { type Dict, at, dicts, isDict, num, str } from "../core/values";
import { type KubernetesWorkload, dockerWorkloads, kubernetesWorkloads } from "../core/workloads";

interface Config {
  allowedClients: string[];
  dockerMonitoringClients: string[];
  ports: Record<DataStore, number[]>;
  metricsPorts: Record<DataStore, number[]>;
  monitoringNamespaces: string[];
}

/** Exporter ports: RabbitMQ's built-in Prometheus plugin, postgres_exporter, redis_exporter. */
const METRICS_PORTS: Record<DataStore, number[]> = {
  postgres: [9187],
  redis: [9121],
  rabbitmq: [15692],
  "redis-cluster": [],
};

/**
 * A rule that lets only a monitoring namespace's pods reach only the store's metrics ports
 * (Prometheus scraping): accepted, it reaches no data.
 */
function isScrapeRule(rule: Dict, store: KubernetesWorkload & { role: DataStore }, config: Config): boolean {
  const metrics = config.metricsPorts[store.role] ?? METRICS_PORTS[store.role];
  const ports = dicts(rule.ports).map((p) => portNumber(p.port, store));
  const peers = dicts(rule.from);
  return (
    ports.length > 0 &&
    ports.every((p) => p !== undefined && metrics.includes(p)) &&
    peers.length > 0 &&
    peers.every((peer) => {
      const namespace = stringMap(at(peer, "namespaceSelector", "matchLabels"))[
        "kubernetes.io/metadata.name"
      ];
      return (
        at(peer, "ipBlock") === undefined &&
        namespace !== undefined &&
        config.monitoringNamespaces.includes(namespace)
      );
    })
  );
}

const INGRESS: Direction = "Ingress";

/** Does a peer's namespaceSelector stay within the data store's own namespace? */
function ownNamespaceOnly(namespaceSelector: unknown, namespace: string): boolean {
  if (namespaceSelector === undefined) return true;
  return (
    namespace !== "" &&
    stringMap(at(namespaceSelector, "matchLabels"))["kubernetes.io/metadata.name"] === namespace
  );
}

function peerProblems(
  peer: Dict,
  store: KubernetesWorkload,
  all: KubernetesWorkload[],
  config: Config,
): string[] {
  const ipBlock = str(at(peer, "ipBlock", "cidr"));
  if (ipBlock) return [`the address block ${ipBlock}`];
  if (!ownNamespaceOnly(peer.namespaceSelector, store.namespace)) return ["pods of other namespaces"];
  const podSelector = peer.podSelector;
  if (!isDict(podSelector) || selectsAll(podSelector)) return ["every pod of the namespace"];
  return all
    .filter(
      (w) => w.namespace === store.namespace && w !== store && selectorMatches(podSelector, w.podLabels),
    )
    .filter(
      (w) => !(w.role && config.allowedClients.includes(w.role)) && !isStoreJob(store.role ?? "", w.role),
    )
    .map((w) => `${w.kind} ${JSON.stringify(w.name)} (role ${w.role ?? "unknown"})`);
}

/** Named ports resolve against the store's own container ports. */
function portNumber(port: unknown, store: KubernetesWorkload): number | undefined {
  if (typeof port === "string" && !/^\d+$/.test(port)) {
    for (const c of store.containers)
      for (const p of dicts(c.spec.ports)) if (p.name === port) return num(p.containerPort);
    return undefined;
  }
  return num(port);
}

function portProblems(rule: Dict, store: KubernetesWorkload, allowed: number[]): string[] {
  const ports = dicts(rule.ports);
  if (ports.length === 0) return ["on every port"];
  return ports.flatMap((p) => {
    const port = portNumber(p.port, store);
    const end = num(p.endPort);
    if (port === undefined) return [`on port ${JSON.stringify(p.port ?? "any")}`];
    if (end !== undefined && end !== port) return [`on ports ${port}-${end}`];
    return allowed.includes(port) ? [] : [`on port ${port}`];
  });
}

const isStore = (w: KubernetesWorkload): w is KubernetesWorkload & { role: DataStore } => isDataStore(w.role);

function kubernetesFindings(subjects: Subject[], config: Config): StackFinding[] {
  const workloads = kubernetesWorkloads(subjects);
  const policies = networkPolicies(subjects);
  const findings: StackFinding[] = [];
  for (const store of workloads) {
    if (!isStore(store)) continue;
    const allowedPorts = config.ports[store.role] ?? DATA_STORE_PORTS[store.role];
    const governing = policiesSelecting(policies, store.namespace, store.podLabels).filter((p) =>
      directionsOf(p).includes(INGRESS),
    );
    if (governing.length === 0) {
      findings.push({
        subject: store.subject,
        message: `${store.role} (${store.kind} ${JSON.stringify(store.name)}): no NetworkPolicy restricts who connects to it`,
      });
      continue;
    }
    for (const policy of governing) {
      for (const rule of rulesOf(policy, INGRESS)) {
        if (isScrapeRule(rule, store, config)) continue;
        const peers = dicts(rule.from);
        const name = JSON.stringify(str(at(policy.props, "metadata", "name")) ?? policy.name);
        const sources =
          peers.length === 0
            ? ["every source"]
            : peers.flatMap((peer) => peerProblems(peer, store, workloads, config));
        for (const source of sources)
          findings.push({
            subject: policy,
            message: `NetworkPolicy ${name} lets ${source} reach ${store.role} (allowed clients: ${config.allowedClients.join(", ")})`,
          });
        for (const ports of portProblems(rule, store, allowedPorts))
          findings.push({
            subject: policy,
            message: `NetworkPolicy ${name} opens ${store.role} ${ports} (allowed: ${allowedPorts.join(", ")})`,
          });
      }
    }
  }
  return findings;
}

function dockerFindings(subjects: Subject[], config: Config): StackFinding[] {
  const networks = new Map<string, Subject>();
  for (const network of subjects.filter((s) => s.type === DOCKER_NETWORK))
    networks.set(str(network.props.name) ?? network.name, network);
  const containers = dockerWorkloads(subjects);
  const attachments = (c: Subject) =>
    dicts(c.props.networksAdvanced).flatMap((n) => (str(n.name) ? [str(n.name)!] : []));
  const findings: StackFinding[] = [];
  for (const store of containers) {
    if (!isDataStore(store.role)) continue;
    const mode = str(store.subject.props.networkMode);
    if (mode && !["none"].includes(mode) && attachments(store.subject).length === 0)
      findings.push({
        subject: store.subject,
        message: `the ${store.role} container uses the network mode ${mode}, shared with other containers`,
      });
    for (const name of attachments(store.subject)) {
      const network = networks.get(name);
      if (network && network.props.internal !== true)
        findings.push({
          subject: store.subject,
          message: `the ${store.role} container is on network ${name}, which is not internal (it has a route out of the host)`,
        });
      for (const other of containers) {
        if (other === store || !attachments(other.subject).includes(name)) continue;
        if (isDataStore(other.role) || (other.role && config.allowedClients.includes(other.role))) continue;
        if (isStoreJob(store.role, other.role)) continue;
        if (other.role && config.dockerMonitoringClients.includes(other.role)) continue;
        findings.push({
          subject: store.subject,
          message: `the ${store.role} container shares network ${name} with ${other.name} (role ${other.role ?? "unknown"}), which is not an allowed client (${config.allowedClients.join(", ")})`,
        });
      }
    }
  }
  return findings;
}

export const datastoreNetworkIsolation: StackRule<Config> = {
  kind: "stack",
  name: "datastore-network-isolation",
  description:
    "PostgreSQL, Redis and RabbitMQ accept connections only from the app's processes (API, workers, jobs, backups) on their own ports, and their metrics ports only from a monitoring namespace: Kubernetes NetworkPolicies; on Docker, internal networks shared only with those processes (Docker networks cannot filter ports; the stores listen only on theirs).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: select the store's pods in a NetworkPolicy whose ingress allows only podSelectors of the app's components, with the store's port listed (and, for Prometheus, only a monitoring namespace on the metrics port). Docker: attach the store to an internal network only, shared with nothing but the app's containers.",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      allowedClients: {
        type: "array",
        items: { type: "string" },
        default: [...APP_ROLES],
        description: "Roles (app.kubernetes.io/component) that may connect to a data store.",
      },
      dockerMonitoringClients: {
        type: "array",
        items: { type: "string" },
        default: [...DATA_STORE_MONITORING_ROLES],
        description:
          "Docker roles of the monitoring part that share the data stores' network: their exporters and Prometheus (RabbitMQ's /metrics). They hold no data store credential but their exporter's.",
      },
      ports: {
        type: "object",
        default: DATA_STORE_PORTS,
        description: "Ports each data store may be reached on.",
      },
      metricsPorts: {
        type: "object",
        default: METRICS_PORTS,
        description: "Metrics ports of each data store, which only monitoring namespaces may reach.",
      },
      monitoringNamespaces: {
        type: "array",
        items: { type: "string" },
        default: ["monitoring"],
        description:
          "Namespaces whose pods may scrape the data stores' metrics ports (chatapi:kubernetes.prometheusNamespace).",
      },
    },
    defaults: {
      allowedClients: [...APP_ROLES],
      dockerMonitoringClients: [...DATA_STORE_MONITORING_ROLES],
      ports: DATA_STORE_PORTS,
      metricsPorts: METRICS_PORTS,
      monitoringNamespaces: ["monitoring"],
    },
  },
  validate(subjects, config) {
    return [...kubernetesFindings(subjects, config), ...dockerFindings(subjects, config)];
  },
};
