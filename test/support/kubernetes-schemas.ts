// Validates Kubernetes objects against the Kubernetes OpenAPI schemas with unknown fields
// rejected: the strict JSON schemas of kubernetes-validate (PyPI; generated from the release's
// OpenAPI spec) for built-in kinds, fetched by scripts/setup into the cache, checked with ajv.
// Custom resources (cert-manager, Gateway API, the Prometheus Operator's) use the validators @kubernetes-models generates
// from those projects' CRDs; CRD schemas do not forbid unknown fields, so those are not strict.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

/** The Kubernetes version whose schemas are used (the local cluster of scripts/cluster runs v1.33). */
export const KUBERNETES_SCHEMA_VERSION = "v1.33.0";

export function kubernetesSchemaDir(): string {
  const cache = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");
  const dir = join(cache, "kubernetes-json-schema", `${KUBERNETES_SCHEMA_VERSION}-local-strict`);
  if (!existsSync(join(dir, "_definitions.json")))
    throw new Error(`Kubernetes JSON schemas are missing (${dir}): run scripts/setup --for test`);
  return dir;
}

interface KubernetesObjectLike {
  apiVersion?: unknown;
  kind?: unknown;
}

type CustomValidator = (data: unknown) => string[];

/** Validators of the custom resources the stack creates, keyed by apiVersion/kind. */
async function customValidators(): Promise<Record<string, CustomValidator>> {
  const load = async (module: string, name: string): Promise<CustomValidator> => {
    const exports = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = exports[name];
    if (!Model) throw new Error(`${module} has no ${name}`);
    return (data) => {
      try {
        new Model(data as object).validate();
        return [];
      } catch (error) {
        return [(error as Error).message];
      }
    };
  };
  return {
    "cert-manager.io/v1/Certificate": await load(
      "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate",
      "Certificate",
    ),
    "cert-manager.io/v1/Issuer": await load(
      "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer",
      "Issuer",
    ),
    "gateway.networking.k8s.io/v1/Gateway": await load(
      "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway",
      "Gateway",
    ),
    "gateway.networking.k8s.io/v1/HTTPRoute": await load(
      "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
      "HTTPRoute",
    ),
    ...Object.fromEntries(
      await Promise.all(
        ["PodMonitor", "Probe", "PrometheusRule"].map(
          async (kind) =>
            [
              `monitoring.coreos.com/v1/${kind}`,
              await load(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`, kind),
            ] as const,
        ),
      ),
    ),
  };
}

export interface KubernetesValidator {
  /** Problems of one object (empty when valid): JSON pointer and message. */
  validate(object: unknown): string[];
  /** Whether the kind's schema rejects unknown fields. */
  strict(object: unknown): boolean;
}

export async function kubernetesValidator(): Promise<KubernetesValidator> {
  const dir = kubernetesSchemaDir();
  const ajv = new Ajv2020({ allErrors: true, strict: false, logger: false });
  addFormats(ajv);
  for (const format of ["int32", "int64", "double", "byte"]) ajv.addFormat(format, true);
  ajv.addSchema(JSON.parse(readFileSync(join(dir, "_definitions.json"), "utf8")) as object);
  const compiled = new Map<string, ValidateFunction>();
  const custom = await customValidators();

  const schemaFile = (object: KubernetesObjectLike) => {
    const [group, version] = String(object.apiVersion).includes("/")
      ? String(object.apiVersion).split("/")
      : ["", String(object.apiVersion)];
    const groupPart = group ? `-${group!.split(".")[0]}` : "";
    return join(dir, `${String(object.kind).toLowerCase()}${groupPart}-${version}.json`);
  };
  const builtIn = (object: KubernetesObjectLike): ValidateFunction | undefined => {
    const file = schemaFile(object);
    if (!existsSync(file)) return undefined;
    let fn = compiled.get(file);
    if (!fn) {
      fn = ajv.compile(JSON.parse(readFileSync(file, "utf8")) as object);
      compiled.set(file, fn);
    }
    return fn;
  };

  return {
    validate(object) {
      const o = object as KubernetesObjectLike;
      const key = `${String(o.apiVersion)}/${String(o.kind)}`;
      const customValidate = custom[key];
      if (customValidate) return customValidate(object);
      const fn = builtIn(o);
      if (!fn) return [`no schema for ${key} (Kubernetes ${KUBERNETES_SCHEMA_VERSION})`];
      if (fn(object)) return [];
      return (fn.errors ?? []).map(
        (e) =>
          `${e.instancePath || "/"}: ${e.message}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`,
      );
    },
    strict(object) {
      const o = object as KubernetesObjectLike;
      return !custom[`${String(o.apiVersion)}/${String(o.kind)}`];
    },
  };
}
