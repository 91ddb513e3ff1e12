// The cluster's add-ons (CoreDNS, local-path-provisioner, metrics-server, StorageClasses) are YAML
// files in scripts/cluster.d/addons/; the few values that vary (node IP, image names, the
// metrics-server certificate, ...) are ${NAME} placeholders in string values, filled in after
// parsing (never by editing YAML text). Pure: unit-tested against the strict Kubernetes schemas.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { type ClusterConfig, clusterDir } from "./config";

/** Applied in this order (CoreDNS first: the node's pods need DNS). */
export const ADDON_FILES = [
  "coredns.yaml",
  "local-path-provisioner.yaml",
  "metrics-server.yaml",
  "storage-classes.yaml",
] as const;

export type TemplateValues = Record<string, string>;

/** PEM files the add-ons carry (base64 in Secrets and the APIService's caBundle). */
export interface AddonCertificates {
  caCrt: string;
  metricsServerCrt: string;
  metricsServerKey: string;
}

const base64 = (text: string) => Buffer.from(text).toString("base64");

export function addonValues(config: ClusterConfig, nodeIp: string, certs: AddonCertificates): TemplateValues {
  return {
    NODE_IP: nodeIp,
    API_PORT: String(config.ports.api),
    CLUSTER_DNS: config.network.clusterDns,
    CLUSTER_DOMAIN: config.network.clusterDomain,
    VOLUMES_DIR: config.paths.volumes,
    COREDNS_IMAGE: config.images.coredns,
    LOCAL_PATH_PROVISIONER_IMAGE: config.images.localPathProvisioner,
    METRICS_SERVER_IMAGE: config.images.metricsServer,
    HELPER_IMAGE: config.images.helper,
    CA_BUNDLE: base64(certs.caCrt),
    METRICS_SERVER_TLS_CRT: base64(certs.metricsServerCrt),
    METRICS_SERVER_TLS_KEY: base64(certs.metricsServerKey),
  };
}

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

function fill(value: unknown, values: TemplateValues, where: string): unknown {
  if (typeof value === "string")
    return value.replace(PLACEHOLDER, (_, name: string) => {
      const replacement = values[name];
      if (replacement === undefined) throw new Error(`${where}: no value for placeholder \${${name}}`);
      return replacement;
    });
  if (Array.isArray(value)) return value.map((item) => fill(item, values, where));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values, where)]));
  return value;
}

/** The objects of one multi-document YAML text, placeholders filled in. */
export function renderTemplate(source: string, values: TemplateValues, name: string): object[] {
  return parseAllDocuments(source).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors[0]!.message}`);
    const object: unknown = doc.toJS();
    if (!object || typeof object !== "object") throw new Error(`${name}: document ${i + 1} is not an object`);
    return fill(object, values, `${name} document ${i + 1}`) as object;
  });
}

/** Names of the placeholders in a YAML text's string values (the tests check each has a value). */
export function placeholders(source: string): string[] {
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === "string") for (const m of value.matchAll(PLACEHOLDER)) names.add(m[1]!);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  parseAllDocuments(source).forEach((doc) => walk(doc.toJS()));
  return [...names].sort();
}

export const readClusterFile = (name: string) => readFileSync(join(clusterDir, name), "utf8");

/** Every add-on object, in apply order. */
export function addonObjects(values: TemplateValues): object[] {
  return ADDON_FILES.flatMap((file) =>
    renderTemplate(readClusterFile(join("addons", file)), values, `addons/${file}`),
  );
}

/** Objects as one multi-document YAML text (what kubectl apply reads). */
export const toYaml = (objects: object[]) => objects.map((o) => stringify(o)).join("---\n");

/** The pod that proves DNS from a pod. */
export const dnsCheckPod = (values: TemplateValues): object =>
  renderTemplate(readClusterFile("dns-check.yaml"), values, "dns-check.yaml")[0]!;
