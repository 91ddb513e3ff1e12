// Which part of ChatAPI a workload is: the toolkit labels every workload with
// app.kubernetes.io/component (Docker containers also with chatapi.role); the image name is
// the fallback for objects from elsewhere.
import { imageBaseName } from "./images";

/** redis-cluster: the fan-out's in-stack Redis Cluster (fanoutCluster.mode container). */
export const DATA_STORES = ["postgres", "redis", "rabbitmq", "redis-cluster"] as const;
export type DataStore = (typeof DATA_STORES)[number];

/** The chat service's own processes (one image, `chatapi <command>`). */
export const APP_ROLES = ["api", "worker", "migrate", "bootstrap-admin", "backup"] as const;
/** Jobs that administer one data store (forming the fan-out's Redis Cluster): clients of that store only. */
export const DATA_STORE_JOBS: Partial<Record<string, readonly string[]>> = {
  "redis-cluster": ["redis-cluster-init"],
};
export const isStoreJob = (store: string, role: string | undefined) =>
  role !== undefined && (DATA_STORE_JOBS[store] ?? []).includes(role);
export const LOAD_BALANCER_ROLES = ["nginx"] as const;
/** Metrics collection: Prometheus and what it scrapes besides the app (no authentication on any). */
export const MONITORING_ROLES = [
  "prometheus",
  "alertmanager",
  "pushgateway",
  "postgres-exporter",
  "redis-exporter",
  "nginx-exporter",
  "blackbox-exporter",
  "node-exporter",
] as const;
/** Monitoring processes that must reach a data store (its exporter; Prometheus for RabbitMQ's /metrics). */
export const DATA_STORE_MONITORING_ROLES = ["prometheus", "postgres-exporter", "redis-exporter"] as const;

const MONITORING_IMAGE = /^(prometheus|alertmanager|pushgateway|.+[-_]exporter)$/;

/** A monitoring process, by role, else by image name (prom/prometheus, *-exporter, ...). */
export function isMonitoring(role: string | undefined, image: string | undefined): boolean {
  if (role !== undefined && (MONITORING_ROLES as readonly string[]).includes(role)) return true;
  const base = image ? imageBaseName(image) : undefined;
  return base !== undefined && MONITORING_IMAGE.test(base);
}

/** Host addresses that only the host itself reaches. */
export const isLoopback = (address: string) =>
  /^127\./.test(address) || address === "::1" || address === "localhost";

/** Ports a data store serves its clients on (and the ones it must never expose). */
export const DATA_STORE_PORTS: Record<DataStore, number[]> = {
  postgres: [5432],
  redis: [6379],
  rabbitmq: [5672, 5671],
  // Clients on 6379; the nodes also gossip and fail over on the cluster bus.
  "redis-cluster": [6379, 16379],
};

/** Every port a data store listens on (clients, management, clustering, metrics). */
export const DATA_STORE_ALL_PORTS: Record<DataStore, number[]> = {
  postgres: [5432],
  redis: [6379, 16379, 26379],
  rabbitmq: [5672, 5671, 15672, 15671, 15692, 25672, 4369],
  "redis-cluster": [6379, 16379],
};

export const isDataStore = (role: string | undefined): role is DataStore =>
  role !== undefined && (DATA_STORES as readonly string[]).includes(role);

export const isLoadBalancer = (role: string | undefined) =>
  role !== undefined && (LOAD_BALANCER_ROLES as readonly string[]).includes(role);

function roleFromImage(image: string | undefined): string | undefined {
  const base = image ? imageBaseName(image) : undefined;
  if (!base) return undefined;
  for (const role of [...DATA_STORES, ...LOAD_BALANCER_ROLES]) if (base.startsWith(role)) return role;
  return undefined;
}

/** The role from labels (component first), else from the image name. */
export function roleOf(
  labels: Record<string, string>,
  images: (string | undefined)[] = [],
): string | undefined {
  const labelled = labels["app.kubernetes.io/component"] ?? labels["chatapi.role"];
  if (labelled) return labelled;
  for (const image of images) {
    const role = roleFromImage(image);
    if (role) return role;
  }
  return undefined;
}

/** Where each data store keeps its data (the official images' paths). */
export const DATA_PATHS: Record<DataStore, string> = {
  postgres: "/var/lib/postgresql/data",
  redis: "/data",
  rabbitmq: "/var/lib/rabbitmq",
  "redis-cluster": "/data",
};
