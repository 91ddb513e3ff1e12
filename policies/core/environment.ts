// Is this a production stack? Some rules are stricter there (replica minimums, HSTS max-age).
// "auto" reads what the toolkit deploys: the app's ENVIRONMENT variable (Docker env, Kubernetes
// env or a ConfigMap it loads), so the same pack serves every stack without per-stack config.
import { dockerEnv } from "./docker";
import { containerEnv, isKind, stringMap } from "./kubernetes";
import type { ConfigProperty, Subject } from "./types";
import { dockerWorkloads, kubernetesWorkloads } from "./workloads";

export type EnvironmentSetting = "auto" | "production" | "non-production";

export const environmentProperty: ConfigProperty = {
  type: "string",
  enum: ["auto", "production", "non-production"],
  default: "auto",
  description:
    "Which rules apply: production, non-production, or auto (production when the app's ENVIRONMENT is production).",
};

export function isProduction(subjects: Subject[], setting: EnvironmentSetting): boolean {
  if (setting !== "auto") return setting === "production";
  const configMaps = subjects.filter((s) => isKind(s, "ConfigMap"));
  if (configMaps.some((m) => stringMap(m.props.data).ENVIRONMENT === "production")) return true;
  for (const workload of kubernetesWorkloads(subjects)) {
    for (const container of workload.containers) {
      if (containerEnv(container.spec, configMaps, workload.namespace).ENVIRONMENT === "production")
        return true;
    }
  }
  return dockerWorkloads(subjects).some((w) => dockerEnv(w.subject.props).ENVIRONMENT === "production");
}
