// Gateway API instead of nginx (kubernetes.gatewayClassName): a Gateway with an HTTP listener
// (redirects to HTTPS; ACME challenges) and an HTTPS listener terminating TLS with the stack's
// certificate, and HTTPRoutes to the API Service for exactly what nginx serves: the API prefix,
// /ws (with nginx's long timeout: Envoy-based gateways otherwise cut a WebSocket after 15 s) and
// /health. Nothing else is routed, /metrics and /health/ready in particular. Stickiness by client
// address has no counterpart in Gateway API's standard channel (sessionPersistence is
// experimental and cookie-based); the service does not need it: every instance serves every
// room, and a client that lands elsewhere resumes with after_seq. Pure.
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../../plan/types";
import type { CustomObject } from "./custom";
import { metadata, objectNames, stackLabels } from "./meta";

const GROUP = "gateway.networking.k8s.io";

export function gateway(plan: DeploymentPlan, tlsSecret: pulumi.Input<string>): CustomObject {
  const className = plan.kubernetes.gatewayClassName;
  if (!className) throw new Error("kubernetes.gatewayClassName is not set");
  const lb = plan.loadBalancer;
  return {
    apiVersion: `${GROUP}/v1`,
    kind: "Gateway",
    metadata: metadata(plan, objectNames(plan).gateway, stackLabels(plan, "gateway")),
    spec: {
      gatewayClassName: className,
      listeners: [
        {
          name: "http",
          protocol: "HTTP",
          port: lb.public.http,
          hostname: plan.domain,
          allowedRoutes: { namespaces: { from: "Same" } },
        },
        {
          name: "https",
          protocol: "HTTPS",
          port: lb.public.https,
          hostname: plan.domain,
          tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: tlsSecret }] },
          allowedRoutes: { namespaces: { from: "Same" } },
        },
      ],
    },
  };
}

function parentRef(plan: DeploymentPlan, sectionName: "http" | "https") {
  return { group: GROUP, kind: "Gateway", name: objectNames(plan).gateway, sectionName };
}

/** HTTPS: the REST API, /ws and /health to the API Service; anything else is the gateway's 404. */
export function apiRoute(plan: DeploymentPlan): CustomObject {
  const api = plan.workloads.find((w) => w.role === "api");
  if (!api) throw new Error("the plan has no API workload");
  const backendRefs = [{ name: objectNames(plan).apiService, port: api.ports[0]!.containerPort }];
  const wsTimeout = `${plan.loadBalancer.wsReadTimeoutSeconds}s`;
  return {
    apiVersion: `${GROUP}/v1`,
    kind: "HTTPRoute",
    metadata: metadata(plan, `${plan.prefix}-api`, stackLabels(plan, "gateway")),
    spec: {
      parentRefs: [parentRef(plan, "https")],
      hostnames: [plan.domain],
      rules: [
        {
          matches: [
            { path: { type: "PathPrefix", value: plan.loadBalancer.apiPrefix } },
            { path: { type: "Exact", value: "/health" } },
          ],
          backendRefs,
        },
        {
          matches: [{ path: { type: "Exact", value: "/ws" } }],
          timeouts: { request: wsTimeout, backendRequest: wsTimeout },
          backendRefs,
        },
      ],
    },
  };
}

/** HTTP: 301 to HTTPS (cert-manager's challenge routes, more specific, take precedence). */
export function redirectRoute(plan: DeploymentPlan): CustomObject {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: "HTTPRoute",
    metadata: metadata(plan, `${plan.prefix}-https-redirect`, stackLabels(plan, "gateway")),
    spec: {
      parentRefs: [parentRef(plan, "http")],
      hostnames: [plan.domain],
      rules: [
        {
          filters: [
            {
              type: "RequestRedirect",
              requestRedirect: {
                scheme: "https",
                statusCode: 301,
                ...(plan.loadBalancer.public.https === 443 ? {} : { port: plan.loadBalancer.public.https }),
              },
            },
          ],
        },
      ],
    },
  };
}
