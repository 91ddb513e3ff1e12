// Compares the objects of two renders of the same deployment (the Pulumi Kubernetes target and
// the Helm chart) field by field, after normalising what legitimately differs: name prefixes
// (chatapi-<stack> vs <release>-chatapi), names the render derives from content (the nginx
// ConfigMap's hash), Helm and Pulumi bookkeeping (helm.sh/chart and managed-by labels, helm.sh/*
// hook annotations, checksum/* annotations), empty lists a renderer writes and the other omits,
// and what only one side creates by design (the Namespace; `helm test` objects; a hook copy of
// an object the release also creates; where the migration runs: the Pulumi target's migrate Job,
// which Pulumi awaits before the API, and its NetworkPolicy, against the chart's `migrate` init
// container in the API and worker pods, which needs no hook and so no ordering by the tool that
// applies the chart). Every other difference is reported with its path. Pure.

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
} & Record<string, unknown>;

export interface NormaliseOptions {
  /** Name prefixes that mean the same thing, e.g. ["chatapi-prod", "prod-chatapi"]. */
  prefixes: string[];
  /** Exact names to replace first (e.g. the hashed ConfigMap name → its unhashed one). */
  renames?: Record<string, string>;
  /**
   * A component only this side runs as its own pods (the Pulumi target's migrate Job): its
   * objects, and the NetworkPolicy peers that select its pods, are left out.
   */
  ownComponent?: string;
  /** Init containers only this side runs (the chart's migrate), left out by name. */
  ownInitContainers?: string[];
}

export interface Difference {
  /** kind/name after normalisation. */
  object: string;
  /** Dotted path; list items by name where the list's items are named. Empty: the whole object. */
  path: string;
  pulumi: unknown;
  helm: unknown;
}

const PREFIX = "<prefix>";
const BOOKKEEPING_LABELS = ["helm.sh/chart", "app.kubernetes.io/managed-by"];
const isBookkeepingAnnotation = (key: string) => key.startsWith("helm.sh/") || key.startsWith("checksum/");
/** Kinds only one renderer creates by design: the namespace is the release's (helm --namespace). */
const ONE_SIDED_KINDS = ["Namespace"];

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function renamer(options: NormaliseOptions): (text: string) => string {
  const renames = Object.entries(options.renames ?? {});
  const prefixes = options.prefixes.map(
    // A whole name part: not "chatapi-prod" inside "chatapi-production".
    (p) => new RegExp(`(?<![A-Za-z0-9])${escape(p)}(?![A-Za-z0-9_])`, "g"),
  );
  return (text) => {
    let out = text;
    for (const [from, to] of renames) out = out.split(from).join(to);
    for (const pattern of prefixes) out = out.replace(pattern, PREFIX);
    return out;
  };
}

function strip(value: Json, rename: (t: string) => string): Json {
  if (typeof value === "string") return rename(value);
  if (Array.isArray(value)) return value.map((item) => strip(item, rename));
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    if (Array.isArray(v) && v.length === 0) continue;
    if (k === "labels" && isObject(v)) {
      const labels = Object.fromEntries(Object.entries(v).filter(([l]) => !BOOKKEEPING_LABELS.includes(l)));
      out[k] = strip(labels, rename);
      continue;
    }
    if (k === "annotations" && isObject(v)) {
      const kept = Object.fromEntries(Object.entries(v).filter(([a]) => !isBookkeepingAnnotation(a)));
      if (Object.keys(kept).length > 0) out[k] = strip(kept, rename);
      continue;
    }
    out[k] = strip(v, rename);
  }
  return out;
}

const annotationsOf = (m: Manifest) => m.metadata.annotations ?? {};
const componentOf = (m: Manifest) => m.metadata.labels?.["app.kubernetes.io/component"];

/** Leaves out what only this side runs (NormaliseOptions.ownComponent, .ownInitContainers). */
function withoutOwnParts(value: Json, options: NormaliseOptions): Json {
  if (Array.isArray(value)) {
    // A peer selecting those pods goes, and so does a rule left with no peer (it would allow all).
    const peerless = (item: Json) =>
      isObject(item) &&
      ["from", "to"].some((k) => Array.isArray(item[k]) && (item[k] as Json[]).length === 0);
    return value
      .filter((item) => !(isObject(item) && selects(item, options.ownComponent)))
      .map((item) => withoutOwnParts(item, options))
      .filter((item, i) => !peerless(item) || peerless(value[i]));
  }
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === "initContainers" && Array.isArray(v)
        ? v.filter((c) => !(isObject(c) && options.ownInitContainers?.includes(String(c.name))))
        : withoutOwnParts(v, options);
  }
  return out;
}

/** A NetworkPolicy peer ({podSelector: {matchLabels}}) that selects only the given component's pods. */
function selects(peer: Record<string, Json>, component: string | undefined): boolean {
  if (!component || !isObject(peer.podSelector) || !isObject(peer.podSelector.matchLabels)) return false;
  return peer.podSelector.matchLabels["app.kubernetes.io/component"] === component;
}

/** The objects keyed by kind/name, normalised. */
export function normalise(
  manifests: Manifest[],
  options: NormaliseOptions,
): Map<string, Record<string, Json>> {
  const rename = renamer(options);
  const isTest = (m: Manifest) => annotationsOf(m)["helm.sh/hook"] === "test" || componentOf(m) === "test";
  const own = (m: Manifest) =>
    options.ownComponent !== undefined &&
    (componentOf(m) === options.ownComponent ||
      (m.kind === "NetworkPolicy" && selects(m.spec as Record<string, Json>, options.ownComponent)));
  const kept = manifests
    .filter((m) => !ONE_SIDED_KINDS.includes(m.kind) && !isTest(m) && !own(m))
    .map((m) => withoutOwnParts(m, options) as Manifest);
  const key = (m: Manifest) => `${m.kind}/${rename(m.metadata.name)}`;
  const released = new Set(kept.filter((m) => !annotationsOf(m)["helm.sh/hook"]).map(key));
  const out = new Map<string, Record<string, Json>>();
  for (const m of kept) {
    // A hook copy of an object the release also creates (the pre-install ServiceAccount).
    if (annotationsOf(m)["helm.sh/hook"] && released.has(key(m))) continue;
    if (out.has(key(m))) throw new Error(`two objects normalise to ${key(m)}`);
    out.set(key(m), strip(m, rename) as Record<string, Json>);
  }
  return out;
}

/** Named items ({name: ...}, unique on both sides) are matched by name, other lists by position. */
function namedItems(list: Json[]): Map<string, Json> | undefined {
  if (!list.every((item) => isObject(item) && typeof item.name === "string")) return undefined;
  const map = new Map(list.map((item) => [(item as { name: string }).name, item]));
  return map.size === list.length ? map : undefined;
}

function diff(a: Json, b: Json, path: string, out: Omit<Difference, "object">[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const namedA = namedItems(a);
    const namedB = namedItems(b);
    if (namedA && namedB) {
      for (const name of new Set([...namedA.keys(), ...namedB.keys()]))
        diff(namedA.get(name), namedB.get(name), `${path}[${name}]`, out);
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) diff(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      diff(a[key], b[key], path ? `${path}.${key}` : key, out);
    return;
  }
  if (a !== b) out.push({ path, pulumi: a, helm: b });
}

/** Every difference between the Pulumi render and the chart's render, object by object. */
export function compareRenders(
  pulumi: Manifest[],
  helm: Manifest[],
  options: { pulumi: NormaliseOptions; helm: NormaliseOptions },
): Difference[] {
  const left = normalise(pulumi, options.pulumi);
  const right = normalise(helm, options.helm);
  const differences: Difference[] = [];
  for (const object of [...new Set([...left.keys(), ...right.keys()])].sort()) {
    const found: Omit<Difference, "object">[] = [];
    diff(left.get(object), right.get(object), "", found);
    differences.push(...found.map((d) => ({ object, ...d })));
  }
  return differences;
}

const shown = (value: unknown) => (value === undefined ? "(absent)" : JSON.stringify(value));

export function formatDifferences(differences: Difference[]): string {
  return differences
    .map((d) => `${d.object} ${d.path || "(whole object)"}: Pulumi ${shown(d.pulumi)}, Helm ${shown(d.helm)}`)
    .join("\n");
}
