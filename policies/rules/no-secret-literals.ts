import { dockerEnv } from "../core/docker";
import { describeContainer, isKind, stringMap } from "../core/kubernetes";
import { embeddedSecret, isSecretName, secretArgument, secretLines } from "../core/secrets";
import type { ResourceRule } from "../core/types";
import { dicts, list, str } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

const strings = (value: unknown) => list(value).filter((v): v is string => typeof v === "string");

/** Findings for one variable; the value itself never appears in a message. */
function envFinding(name: string, value: string): string | undefined {
  if (value === "") return undefined;
  const embedded = embeddedSecret(value);
  if (embedded) return `env ${name} holds ${embedded} in plain text`;
  if (isSecretName(name)) return `env ${name} holds a literal secret value (not shown)`;
  return undefined;
}

function configMapFindings(data: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (value === "") continue;
    const embedded = embeddedSecret(value);
    if (embedded) out.push(`data key ${JSON.stringify(key)} holds ${embedded}`);
    else if (isSecretName(key))
      out.push(`data key ${JSON.stringify(key)} holds a literal secret value (not shown)`);
    else {
      const lines = secretLines(value);
      if (lines.length > 0)
        out.push(`data key ${JSON.stringify(key)} sets a password in plain text (line ${lines.join(", ")})`);
    }
  }
  return out;
}

export const noSecretLiterals: ResourceRule = {
  kind: "resource",
  name: "no-secret-literals",
  description:
    "No secret in plain text: not in environment variables, command arguments or ConfigMaps (messages name the variable, never the value).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediation:
    "Keep the value in a Pulumi config secret (pulumi config set --secret) or a Kubernetes Secret, deliver it as a file under /run/secrets and point the app at it with <NAME>_FILE.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    if (isKind(subject, "ConfigMap")) return configMapFindings(stringMap(subject.props.data));
    const workload = kubernetesWorkload(subject);
    if (workload) {
      return workload.containers.flatMap((c) => {
        const findings: string[] = [];
        for (const variable of dicts(c.spec.env)) {
          const name = str(variable.name);
          const value = str(variable.value);
          const finding = name && value !== undefined ? envFinding(name, value) : undefined;
          if (finding) findings.push(`${describeContainer(c)}: ${finding}`);
        }
        const argument = secretArgument([...strings(c.spec.command), ...strings(c.spec.args)]);
        if (argument)
          findings.push(`${describeContainer(c)}: the command line passes --${argument} in plain text`);
        return findings;
      });
    }
    if (!dockerWorkload(subject)) return [];
    const findings = Object.entries(dockerEnv(subject.props)).flatMap(([name, value]) => {
      const finding = envFinding(name, value);
      return finding ? [`the container's ${finding}`] : [];
    });
    const argument = secretArgument([
      ...strings(subject.props.entrypoints),
      ...strings(subject.props.command),
    ]);
    if (argument) findings.push(`the container's command line passes --${argument} in plain text`);
    return findings;
  },
};
