// Services: the data stores under the host names of the connection URLs, the API (ClusterIP
// for a Gateway, headless for nginx's re-resolved upstream), and nginx facing clients. Pure.
import type * as k8s from "@pulumi/kubernetes";
import type { DeploymentPlan, WorkloadPlan } from "../../plan/types";
import { metadata, objectNames, selectorLabels } from "./meta";

type Service = k8s.types.input.core.v1.Service;

const ports = (w: WorkloadPlan) =>
  w.ports.map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name, protocol: "TCP" }));

export function dataStoreService(plan: DeploymentPlan, w: WorkloadPlan): Service {
  if (w.role !== "postgres" && w.role !== "redis" && w.role !== "rabbitmq" && w.role !== "redis-cluster")
    throw new Error(`${w.role} is not a data store`);
  const selector = selectorLabels(plan, w.role);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(plan, objectNames(plan).dataStoreService(w.role), w.labels),
    spec:
      w.role === "redis-cluster"
        ? // Headless, not-ready pods included: the name resolves to every node, which is how the
          // nodes find each other and the job that forms the cluster finds them all.
          { clusterIP: "None", publishNotReadyAddresses: true, selector, ports: ports(w) }
        : { type: "ClusterIP", selector, ports: ports(w) },
  };
}

export function apiService(plan: DeploymentPlan, w: WorkloadPlan): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(plan, objectNames(plan).apiService, w.labels),
    spec: { type: "ClusterIP", selector: selectorLabels(plan, w.role), ports: ports(w) },
  };
}

/** The blackbox exporter and the Pushgateway: their names are their host names in the namespace. */
export function monitoringService(plan: DeploymentPlan, w: WorkloadPlan): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(plan, w.role, w.labels),
    spec: { type: "ClusterIP", selector: selectorLabels(plan, w.role), ports: ports(w) },
  };
}

/** One DNS A record per ready API pod: nginx's upstream follows the pods as the HPA scales them. */
export function apiHeadlessService(plan: DeploymentPlan, w: WorkloadPlan): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(plan, objectNames(plan).apiHeadlessService, w.labels),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: false,
      selector: selectorLabels(plan, w.role),
      ports: ports(w),
    },
  };
}

/**
 * nginx for clients. externalTrafficPolicy Local keeps the client's address (no SNAT to a
 * node's), which nginx's WebSocket stickiness hashes on.
 */
export function nginxService(plan: DeploymentPlan, w: WorkloadPlan): Service {
  const { serviceType } = plan.kubernetes;
  const lb = plan.loadBalancer;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(plan, objectNames(plan).nginxService, w.labels),
    spec: {
      type: serviceType,
      ...(serviceType === "ClusterIP" ? {} : { externalTrafficPolicy: "Local" }),
      selector: selectorLabels(plan, w.role),
      ports: [
        { name: "http", port: lb.public.http, targetPort: "http", protocol: "TCP" },
        { name: "https", port: lb.public.https, targetPort: "https", protocol: "TCP" },
      ],
    },
  };
}
