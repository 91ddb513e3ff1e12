// The stack's Secret objects: every app secret in one auto-named Opaque Secret (a changed value
// gets a new name, so the pods that mount it roll), and the load balancer's certificate: an
// auto-named kubernetes.io/tls Secret (self-signed or provided), or a cert-manager Certificate
// that fills a Secret of a fixed name (acme), plus the ACME Issuer when the stack creates it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";
import type { SecretValues } from "../secrets/stack-secrets";
import { appSecret, appSecretKeys } from "./manifests/namespace";
import { acmeIssuer, certificate, tlsSecret } from "./manifests/tls";

export interface SecretObjectsArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  after: pulumi.Resource[];
}

export class SecretObjects extends pulumi.ComponentResource {
  readonly appSecretName: pulumi.Output<string>;
  readonly tlsSecretName: pulumi.Output<string>;

  constructor(name: string, args: SecretObjectsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:kubernetes:Secrets", name, {}, opts);
    const { plan } = args;
    const child = { parent: this, dependsOn: args.after };
    const value = (key: keyof SecretValues) => {
      const secret = args.secrets[key];
      if (!secret) throw new Error(`secret ${key} was not resolved`);
      return secret;
    };
    const values = Object.fromEntries(
      appSecretKeys(plan).map((key) => [key, value(key as keyof SecretValues)]),
    );
    this.appSecretName = new k8s.core.v1.Secret(
      `${plan.prefix}-secrets`,
      appSecret(plan, undefined, values),
      child,
    ).metadata.name;

    if (plan.tls.mode === "acme") {
      const issuer = plan.tls.issuer.existing
        ? []
        : [new k8s.apiextensions.CustomResource(`${plan.prefix}-acme-issuer`, acmeIssuer(plan), child)];
      const cert = new k8s.apiextensions.CustomResource(`${plan.prefix}-certificate`, certificate(plan), {
        ...child,
        dependsOn: [...args.after, ...issuer],
      });
      // cert-manager writes the Secret; pods that mount it start once it exists.
      this.tlsSecretName = cert.metadata.apply(() => plan.kubernetes.tlsSecretName);
    } else {
      this.tlsSecretName = new k8s.core.v1.Secret(
        `${plan.prefix}-tls`,
        tlsSecret(plan, undefined, {
          certificate: value("tls_certificate"),
          privateKey: value("tls_private_key"),
        }),
        child,
      ).metadata.name;
    }
    this.registerOutputs({ appSecretName: this.appSecretName, tlsSecretName: this.tlsSecretName });
  }
}
