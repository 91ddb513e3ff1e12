// The load balancer's certificate: a kubernetes.io/tls Secret (self-signed or provided), or a
// cert-manager Certificate that fills that Secret (acme), signed by an existing issuer or by an
// ACME Issuer the stack creates (HTTP-01 through its Gateway). Pure.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../../plan/types";
import type { CustomObject } from "./custom";
import { metadata, objectNames, stackLabels } from "./meta";

export function tlsSecret(
  plan: DeploymentPlan,
  name: string | undefined,
  material: { certificate: pulumi.Input<string>; privateKey: pulumi.Input<string> },
): k8s.types.input.core.v1.Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadata(plan, name, stackLabels(plan, "tls")),
    type: "kubernetes.io/tls",
    stringData: { "tls.crt": material.certificate, "tls.key": material.privateKey },
  };
}

export function certificate(plan: DeploymentPlan): CustomObject {
  if (plan.tls.mode !== "acme") throw new Error("a cert-manager Certificate is for tls.mode acme");
  const issuer = plan.tls.issuer;
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: metadata(plan, plan.kubernetes.tlsSecretName, stackLabels(plan, "tls")),
    spec: {
      secretName: plan.kubernetes.tlsSecretName,
      secretTemplate: { labels: stackLabels(plan, "tls") },
      commonName: plan.domain,
      dnsNames: [plan.domain],
      issuerRef: { group: "cert-manager.io", kind: issuer.kind, name: issuer.name },
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
      duration: "2160h",
      renewBefore: "720h",
    },
  };
}

/** An ACME Issuer whose HTTP-01 challenges are routed through the stack's Gateway (port 80 listener). */
export function acmeIssuer(plan: DeploymentPlan): CustomObject {
  if (plan.tls.mode !== "acme" || plan.tls.issuer.existing)
    throw new Error("the stack creates an ACME Issuer only in acme mode without tls.issuerName");
  const issuer = plan.tls.issuer;
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Issuer",
    metadata: metadata(plan, issuer.name, stackLabels(plan, "tls")),
    spec: {
      acme: {
        email: issuer.email,
        server: issuer.server,
        privateKeySecretRef: { name: `${issuer.name}-account` },
        solvers: [
          {
            http01: {
              gatewayHTTPRoute: {
                parentRefs: [
                  {
                    group: "gateway.networking.k8s.io",
                    kind: "Gateway",
                    name: objectNames(plan).gateway,
                    namespace: plan.kubernetes.namespace,
                    sectionName: "http",
                  },
                ],
              },
            },
          },
        ],
      },
    },
  };
}
