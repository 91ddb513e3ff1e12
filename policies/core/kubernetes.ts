// Kubernetes objects as rules see them: the kind from the Pulumi type token
// (`kubernetes:<group>/<version>:<Kind>`, which is also what ../offline/manifests.ts derives
// from a manifest's apiVersion/kind), pod templates, containers, labels and selectors.
import type { Subject } from "./types";
import { type Dict, at, dict, dicts, isDict, known, list, str } from "./values";

export interface KubernetesKind {
  group: string;
  version: string;
  kind: string;
}

/** `kubernetes:apps/v1:Deployment` → { group: "apps", version: "v1", kind: "Deployment" }. */
export function kubernetesKind(subject: Subject): KubernetesKind | undefined {
  const match = /^kubernetes:([^/:]+)\/([^:]+):(\w+)$/.exec(subject.type);
  if (!match) return undefined;
  return { group: match[1]!, version: match[2]!, kind: match[3]! };
}

export const isKind = (subject: Subject, ...kinds: string[]) => {
  const k = kubernetesKind(subject);
  return k !== undefined && kinds.includes(k.kind);
};

/** Pulumi type token of a manifest (core group objects: `kubernetes:core/v1:Service`). */
export function typeTokenOf(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  return `kubernetes:${group}/${version}:${kind}`;
}

export const WORKLOAD_KINDS = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Job",
  "CronJob",
] as const;

/** Kinds whose pods run until stopped (probes and disruption budgets apply to them). */
export const LONG_RUNNING_KINDS = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
];

export const metadataOf = (subject: Subject): Dict => dict(subject.props.metadata);

export function objectName(subject: Subject): string {
  return str(metadataOf(subject).name) ?? subject.name;
}

/** The namespace; "" when the object does not say (the provider's / release's namespace). */
export function namespaceOf(subject: Subject): string {
  return str(metadataOf(subject).namespace) ?? "";
}

export interface PodTemplate {
  /** The pod's labels (the template's). */
  labels: Record<string, string>;
  spec: Dict;
  /** The workload's own labels (metadata.labels). */
  workloadLabels: Record<string, string>;
}

/** A map of strings (labels, ConfigMap data); values unknown during preview are left out. */
export function stringMap(value: unknown): Record<string, string> {
  const source = dict(value);
  const out: Record<string, string> = {};
  for (const key of Object.keys(source)) {
    const v = known(() => source[key]);
    if (typeof v === "string") out[key] = v;
  }
  return out;
}

/** The pod a workload runs (Pod, Deployment, ..., CronJob), or undefined for other kinds. */
export function podTemplateOf(subject: Subject): PodTemplate | undefined {
  const k = kubernetesKind(subject);
  if (!k || !(WORKLOAD_KINDS as readonly string[]).includes(k.kind)) return undefined;
  const props = subject.props;
  const workloadLabels = stringMap(at(props, "metadata", "labels"));
  if (k.kind === "Pod") return { labels: workloadLabels, spec: dict(props.spec), workloadLabels };
  const template =
    k.kind === "CronJob"
      ? at(props, "spec", "jobTemplate", "spec", "template")
      : at(props, "spec", "template");
  return {
    labels: stringMap(at(template, "metadata", "labels")),
    spec: dict(at(template, "spec")),
    workloadLabels,
  };
}

export interface ContainerRef {
  /** "container", "init container" or "ephemeral container". */
  kind: string;
  name: string;
  spec: Dict;
}

export function containersOf(pod: Dict): ContainerRef[] {
  const groups: [string, string][] = [
    ["containers", "container"],
    ["initContainers", "init container"],
    ["ephemeralContainers", "ephemeral container"],
  ];
  return groups.flatMap(([field, kind]) =>
    dicts(pod[field]).map((spec, i) => ({ kind, name: str(spec.name) ?? `#${i + 1}`, spec })),
  );
}

export const describeContainer = (c: ContainerRef) => `${c.kind} ${JSON.stringify(c.name)}`;

/** Replicas of a workload (spec.replicas; Kubernetes defaults an unset count to 1). */
export function replicasOf(subject: Subject): number | undefined {
  if (!isKind(subject, "Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")) return undefined;
  const replicas = at(subject.props, "spec", "replicas");
  return typeof replicas === "number" ? replicas : undefined;
}

// --- label selectors (matchLabels + matchExpressions, as the API server evaluates them) ---

export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (!isDict(selector)) return false;
  for (const [key, value] of Object.entries(stringMap(selector.matchLabels))) {
    if (labels[key] !== value) return false;
  }
  for (const expression of dicts(selector.matchExpressions)) {
    const key = str(expression.key) ?? "";
    const values = list(expression.values).filter((v): v is string => typeof v === "string");
    const has = key in labels;
    switch (expression.operator) {
      case "In":
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key]!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A selector with no requirements selects everything. */
export function selectsAll(selector: unknown): boolean {
  if (!isDict(selector)) return false;
  return Object.keys(dict(selector.matchLabels)).length === 0 && list(selector.matchExpressions).length === 0;
}

/** A Service's `spec.selector` is a plain label map. */
export function serviceSelects(service: Subject, labels: Record<string, string>): boolean {
  const selector = stringMap(at(service.props, "spec", "selector"));
  if (Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Env values a container sets literally, plus those from ConfigMaps it loads with envFrom. */
export function containerEnv(
  container: Dict,
  configMaps: Subject[],
  namespace: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of dicts(container.envFrom)) {
    const ref = str(at(source, "configMapRef", "name"));
    if (!ref) continue;
    const map = configMaps.find((m) => objectName(m) === ref && namespaceOf(m) === namespace);
    const prefix = str(source.prefix) ?? "";
    if (map) for (const [k, v] of Object.entries(stringMap(map.props.data))) env[`${prefix}${k}`] = v;
  }
  for (const variable of dicts(container.env)) {
    const name = str(variable.name);
    const value = str(variable.value);
    if (name && value !== undefined) env[name] = value;
  }
  return env;
}
