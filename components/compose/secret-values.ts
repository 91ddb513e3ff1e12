// The values of the plan's secrets for a stack deployed without Pulumi, resolved from the same
// SecretPlan sources the Pulumi target reads (components/secrets/stack-secrets.ts): config
// secrets as given, generated ones kept from an earlier run (the data volumes were initialised
// with them) or made now, templates assembled from their parts, TLS from config or self-signed.
import type { SecretConfigKey } from "../config/types";
import type { DeploymentPlan, SecretName, SecretPlan } from "../plan/types";

export interface SecretInputs {
  /** Values kept from an earlier run: reused, never regenerated. */
  existing: Partial<Record<SecretName, string>>;
  /** Config secrets the operator supplied (chatapi:<key>). */
  config: Partial<Record<SecretConfigKey, string>>;
  /** A new password of this length: letters and digits only (values go into URLs unescaped). */
  password: (length: number) => string;
  /** The self-signed server chain and key, when the plan's TLS mode is self-signed. */
  selfSigned?: { chain: string; privateKey: string };
}

/** Config secrets the plan needs that were not supplied (all of them, for one message). */
export function missingConfigSecrets(plan: DeploymentPlan, config: SecretInputs["config"]): string[] {
  const missing = new Set<string>();
  for (const secret of plan.secrets) {
    const source = secret.source;
    if (source.kind === "config" && config[source.key as SecretConfigKey] === undefined)
      missing.add(source.key);
    if (source.kind === "tls" && plan.tls.mode === "provided") {
      const key = source.part === "certificate" ? "tlsCertificate" : "tlsPrivateKey";
      if (config[key] === undefined) missing.add(key);
    }
  }
  return [...missing].map((key) => `chatapi:${key}`);
}

export function resolveSecretValues(plan: DeploymentPlan, inputs: SecretInputs): Record<SecretName, string> {
  if (plan.tls.mode === "acme")
    throw new Error("tls.mode acme needs cert-manager: the Docker target cannot use it");
  const missing = missingConfigSecrets(plan, inputs.config);
  if (missing.length > 0)
    throw new Error(`these config secrets are needed and were not given: ${missing.join(", ")}`);
  const byName = new Map(plan.secrets.map((s) => [s.name, s]));
  const values: Partial<Record<SecretName, string>> = {};

  const resolve = (name: SecretName, chain: SecretName[] = []): string => {
    const done = values[name];
    if (done !== undefined) return done;
    if (chain.includes(name))
      throw new Error(`secret templates form a cycle: ${[...chain, name].join(" -> ")}`);
    const secret: SecretPlan | undefined = byName.get(name);
    if (!secret) throw new Error(`the plan references secret ${name} but does not define it`);
    const source = secret.source;
    const config = (key: string) => inputs.config[key as SecretConfigKey];
    let value: string;
    switch (source.kind) {
      case "config":
        value = config(source.key)!;
        break;
      case "random":
        value = inputs.existing[name] ?? inputs.password(source.length);
        break;
      case "config-or-random":
        value = config(source.key) ?? inputs.existing[name] ?? inputs.password(source.length);
        break;
      case "template":
        value = source.parts
          .map((part) => (typeof part === "string" ? part : resolve(part.secret, [...chain, name])))
          .join("");
        break;
      case "tls":
        if (plan.tls.mode === "provided") {
          value = config(source.part === "certificate" ? "tlsCertificate" : "tlsPrivateKey")!;
        } else {
          if (!inputs.selfSigned)
            throw new Error("the plan's TLS is self-signed, and no certificate was made");
          value = source.part === "certificate" ? inputs.selfSigned.chain : inputs.selfSigned.privateKey;
        }
        break;
    }
    values[name] = value;
    return value;
  };
  for (const secret of plan.secrets) resolve(secret.name);
  return values as Record<SecretName, string>;
}
