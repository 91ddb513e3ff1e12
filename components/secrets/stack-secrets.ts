// Resolves the plan's secret references into Pulumi secret outputs, for either target: config
// secrets as given, generated ones from @pulumi/random, URLs and config files assembled from
// their parts, TLS material from config or a SelfSignedCertificate.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { SecretConfigKey } from "../config/types";
import type { DeploymentPlan, GeneratedValueName, SecretName, SecretPlan } from "../plan/types";
import { SelfSignedCertificate } from "../tls/self-signed-certificate";

export type SecretValues = Partial<Record<SecretName, pulumi.Output<string>>>;
export type GeneratedValues = Record<GeneratedValueName, pulumi.Output<string>>;

export interface StackSecretsArgs {
  plan: DeploymentPlan;
  /** Config secrets that were set, already wrapped with pulumi.secret(). */
  config: Partial<Record<SecretConfigKey, pulumi.Output<string>>>;
}

export class StackSecrets extends pulumi.ComponentResource {
  /** Every secret of the plan, each a Pulumi secret. */
  readonly values: SecretValues;
  /** Deploy-time values that are not secret (the admin client id). */
  readonly generated: GeneratedValues;
  /** The CA certificate clients trust, when the stack signs its own certificate. */
  readonly caCertificate?: pulumi.Output<string>;

  constructor(name: string, args: StackSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:secrets:StackSecrets", name, {}, opts);
    const { plan } = args;
    const byName = new Map(plan.secrets.map((secret) => [secret.name, secret]));
    const values: SecretValues = {};

    let selfSigned: SelfSignedCertificate | undefined;
    if (plan.tls.mode === "self-signed") {
      selfSigned = new SelfSignedCertificate(`${plan.prefix}-tls`, plan.tls, { parent: this });
      this.caCertificate = selfSigned.caCertificate;
    }

    const configValue = (key: string): pulumi.Output<string> => {
      const value = args.config[key as SecretConfigKey];
      if (!value) throw new Error(`the plan needs config secret chatapi:${key}, which is not set`);
      return value;
    };

    const resolve = (secretName: SecretName, chain: SecretName[] = []): pulumi.Output<string> => {
      const cached = values[secretName];
      if (cached) return cached;
      if (chain.includes(secretName))
        throw new Error(`secret templates form a cycle: ${[...chain, secretName].join(" -> ")}`);
      const secret: SecretPlan | undefined = byName.get(secretName);
      if (!secret) throw new Error(`the plan references secret ${secretName} but does not define it`);
      const source = secret.source;
      let value: pulumi.Output<string>;
      switch (source.kind) {
        case "config":
          value = configValue(source.key);
          break;
        case "random":
          value = this.password(plan.prefix, secretName, source.length);
          break;
        case "config-or-random":
          value =
            args.config[source.key as SecretConfigKey] ??
            this.password(plan.prefix, secretName, source.length);
          break;
        case "template":
          value = pulumi
            .all(
              source.parts.map((part) =>
                typeof part === "string" ? pulumi.output(part) : resolve(part.secret, [...chain, secretName]),
              ),
            )
            .apply((parts) => parts.join(""));
          break;
        case "tls":
          if (selfSigned)
            value = source.part === "certificate" ? selfSigned.certificateChain : selfSigned.privateKey;
          else value = configValue(source.part === "certificate" ? "tlsCertificate" : "tlsPrivateKey");
          break;
      }
      values[secretName] = pulumi.secret(value);
      return values[secretName]!;
    };
    // In acme mode cert-manager issues the certificate into the cluster: no value here.
    for (const secret of plan.secrets)
      if (!(secret.source.kind === "tls" && plan.tls.mode === "acme")) resolve(secret.name);
    this.values = values;

    const generated: Partial<GeneratedValues> = {};
    for (const item of plan.generated) {
      generated[item.name] =
        item.source.kind === "fixed"
          ? pulumi.output(item.source.value)
          : new random.RandomUuid(`${plan.prefix}-${item.name.replace(/_/g, "-")}`, {}, { parent: this })
              .result;
    }
    this.generated = generated as GeneratedValues;
    this.registerOutputs({ generated: this.generated });
  }

  private password(prefix: string, secretName: SecretName, length: number): pulumi.Output<string> {
    // Letters and digits only: the value goes into URLs and config files unescaped.
    return new random.RandomPassword(
      `${prefix}-${secretName.replace(/_/g, "-")}`,
      { length, special: false, minUpper: 2, minLower: 2, minNumeric: 2 },
      { parent: this },
    ).result;
  }
}
