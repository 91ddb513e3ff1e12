// charts/chatapi/values.schema.json: ./values-schema.ts with the Kubernetes definitions it refers
// to copied in (strict: unknown fields rejected), so the file stands alone inside the chart.
// Descriptions and x-kubernetes-* annotations of those definitions are dropped (size); the
// chart's own descriptions stay.
import { type Schema, valuesSchema } from "./values-schema";

export interface KubernetesDefinitions {
  $defs: Record<string, Schema>;
}

const REF_PREFIX = "#/$defs/";

function refsIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) refsIn(item, found);
  } else if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string" && inner.startsWith(REF_PREFIX))
        found.add(inner.slice(REF_PREFIX.length));
      else refsIn(inner, found);
    }
  }
}

function stripped(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripped);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === "description" || key.startsWith("x-kubernetes-")) continue;
    // Properties are names, not keywords: keep a property called "description".
    out[key] = key === "properties" ? mapValues(inner, stripped) : stripped(inner);
  }
  return out;
}

const mapValues = (value: unknown, fn: (v: unknown) => unknown) =>
  Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fn(v)]));

/** The values schema with every referenced Kubernetes definition (transitively) under $defs. */
export function valuesSchemaDocument(kubernetes: KubernetesDefinitions): Schema {
  const wanted = new Set<string>();
  refsIn(valuesSchema, wanted);
  const defs: Record<string, unknown> = {};
  const queue = [...wanted];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name in defs) continue;
    const definition = kubernetes.$defs[name];
    if (!definition) throw new Error(`the Kubernetes schemas have no definition ${name}`);
    defs[name] = stripped(definition);
    const inner = new Set<string>();
    refsIn(definition, inner);
    queue.push(...[...inner].filter((ref) => !(ref in defs)));
  }
  const sorted = Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b)));
  return { ...valuesSchema, $defs: sorted };
}
