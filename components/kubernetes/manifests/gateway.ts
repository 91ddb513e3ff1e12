// Gateway API instead of nginx (kubernetes.gatewayClassName): a Gateway with an HTTP listener
// (redirects to HTTPS; ACME challenges) and an HTTPS listener terminating TLS with the stack's
// certificate, and HTTPRoutes to the API Service. WebSocket stickiness is then up to the
// Gateway implementation (sessionPersistence is not in Gateway API's standard channel). Pure.
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

/** HTTPS: everything to the API Service (REST, /ws, /health). */
export function apiRoute(plan: DeploymentPlan): CustomObject {
  const api = plan.workloads.find((w) => w.role === "api");
  if (!api) throw new Error("the plan has no API workload");
  return {
    apiVersion: `${GROUP}/v1`,
    kind: "HTTPRoute",
    metadata: metadata(plan, `${plan.prefix}-api`, stackLabels(plan, "gateway")),
    spec: {
      parentRefs: [parentRef(plan, "https")],
      hostnames: [plan.domain],
      rules: [
        {
          matches: [{ path: { type: "PathPrefix", value: "/" } }],
          backendRefs: [{ name: objectNames(plan).apiService, port: api.ports[0]!.containerPort }],
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
