import { describeContainer } from "../core/kubernetes";
import type { ResourceRule } from "../core/types";
import { at, dicts, str } from "../core/values";
import { kubernetesWorkload } from "../core/workloads";

export const secretsAsFiles: ResourceRule = {
  kind: "resource",
  name: "secrets-as-files",
  description:
    "Secrets reach processes as files, not environment variables (advisory): env is inherited by child processes and shows up in crash dumps and `kubectl describe`.",
  enforcementLevel: "advisory",
  severity: "low",
  remediation:
    "Mount the Secret as a volume (e.g. at /run/secrets, defaultMode 0400) and set <NAME>_FILE to the file's path instead of <NAME> from secretKeyRef/envFrom.",
  targets: ["kubernetes"],
  validate(subject) {
    const workload = kubernetesWorkload(subject);
    if (!workload) return [];
    return workload.containers.flatMap((c) => {
      const out: string[] = [];
      for (const variable of dicts(c.spec.env)) {
        const ref = at(variable, "valueFrom", "secretKeyRef");
        if (ref)
          out.push(
            `${describeContainer(c)}: env ${str(variable.name) ?? "?"} comes from Secret ${JSON.stringify(str(at(ref, "name")) ?? "?")} as an environment variable`,
          );
      }
      for (const source of dicts(c.spec.envFrom)) {
        const name = str(at(source, "secretRef", "name"));
        if (name)
          out.push(
            `${describeContainer(c)}: loads every key of Secret ${JSON.stringify(name)} into env (envFrom)`,
          );
      }
      return out;
    });
  },
};
