// Reads what the Pulumi engine says about a preview into a StackPreview:
//  - `pulumi preview --json`: steps (op, urn, old/new inputs, detailedDiff), changeSummary,
//    diagnostics. It carries no policy results.
//  - the engine event log (`PULUMI_DEBUG_COMMANDS=true pulumi preview --event-log FILE`, one JSON
//    event per line; the Automation API's onEvent gets the same events): resourcePreEvent,
//    policyEvent, summaryEvent, diagnosticEvent. A preview that a mandatory policy fails
//    still writes these, while its --json output may have no steps.
// Either source alone is enough; with both, resources come from the JSON and policy results
// from the events. Debug diagnostics are never read: the Node.js SDK logs each registration's
// response at debug level, Kubernetes Secret data (base64) included.
import type { PolicyViolation, PropertyChange, ResourceChange, StackPreview } from "./model";
import { parsePropertyPath, valueAt } from "./property-path";

export interface PreviewSources {
  stack: string;
  /** Text of `pulumi preview --json`. */
  previewJson?: string;
  /** Text of the engine event log (JSON lines). */
  eventLog?: string;
  /** Exit code of the preview, when known (non-zero = failed). */
  exitCode?: number;
  /** Remediation text of a policy, by policy name, when the pack provides one. */
  remediationFor?: (policy: string) => string | undefined;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const SECRET_TEXT = "[secret]";

/** The extra steps of a replacement; the logical "replace" step stands for them. */
const REPLACEMENT_PARTS = new Set([
  "create-replacement",
  "delete-replaced",
  "discard-replaced",
  "import-replacement",
]);

export function urnParts(urn: string): { type: string; name: string } {
  const parts = urn.replace(/^urn:pulumi:/, "").split("::");
  if (parts.length < 4) throw new Error(`not a Pulumi URN: ${urn}`);
  const typeChain = parts[2]!;
  return { type: typeChain.slice(typeChain.lastIndexOf("$") + 1), name: parts.slice(3).join("::") };
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const isSecretValue = (v: unknown) => v === SECRET_TEXT || (isObject(v) && v[SECRET_SIG_KEY] === SECRET_SIG);

/** Secret wrappers anywhere inside a value replaced by "[secret]". */
function masked(value: Json): Json {
  if (isSecretValue(value)) return SECRET_TEXT;
  if (Array.isArray(value)) return value.map(masked);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v)]));
  return value;
}

const MAX_SHOWN = 100;

/** A value as one short line of text; undefined when absent. */
export function displayValue(value: Json | undefined, secret: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (secret) return SECRET_TEXT;
  const clean = masked(value);
  if (typeof clean === "string") {
    if (clean.includes("\n")) return `(text, ${clean.split("\n").length} lines)`;
    return clean.length > MAX_SHOWN ? `${clean.slice(0, MAX_SHOWN - 1)}…` : clean;
  }
  const text = JSON.stringify(clean);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

interface ResourceState {
  type?: string;
  inputs?: JsonObject;
  additionalSecretOutputs?: string[];
}

/** Whether a property holds a secret even where the engine shows it in plain text. */
function isSecretProperty(
  type: string,
  path: (string | number)[],
  states: (ResourceState | undefined)[],
): boolean {
  const top = path[0];
  if (type === "kubernetes:core/v1:Secret" && (top === "data" || top === "stringData")) return true;
  return states.some((s) => typeof top === "string" && (s?.additionalSecretOutputs ?? []).includes(top));
}

function propertyChanges(
  type: string,
  detailedDiff: Record<string, { kind?: string; diffKind?: string }> | null | undefined,
  fallbackPaths: string[],
  before: ResourceState | undefined,
  after: ResourceState | undefined,
): PropertyChange[] {
  const entries: [string, string][] = detailedDiff
    ? Object.entries(detailedDiff).map(([path, d]) => [path, d.kind ?? d.diffKind ?? "update"])
    : fallbackPaths.map((path) => [path, "update"]);
  return entries
    .map(([path, rawKind]) => {
      const parts = parsePropertyPath(path);
      const secret = isSecretProperty(type, parts, [before, after]);
      const shownBefore = displayValue(valueAt(before?.inputs, parts) as Json | undefined, secret);
      const shownAfter = displayValue(valueAt(after?.inputs, parts) as Json | undefined, secret);
      const change: PropertyChange = {
        path,
        kind: rawKind.replace(/-replace$/, ""),
        replaces: rawKind.endsWith("-replace"),
        ...(shownBefore !== undefined ? { before: shownBefore } : {}),
        ...(shownAfter !== undefined ? { after: shownAfter } : {}),
      };
      return change;
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

interface JsonStep {
  op: string;
  urn: string;
  oldState?: ResourceState;
  newState?: ResourceState;
  detailedDiff?: Record<string, { kind: string }> | null;
  diffReasons?: string[] | null;
  replaceReasons?: string[] | null;
}

interface PreviewJson {
  steps?: JsonStep[];
  changeSummary?: Record<string, number>;
  diagnostics?: { message: string; severity: string; urn?: string }[];
}

interface ResourcePreMetadata {
  op: string;
  urn: string;
  type: string;
  old?: ResourceState | null;
  new?: ResourceState | null;
  detailedDiff?: Record<string, { diffKind: string }> | null;
  diffs?: string[] | null;
  keys?: string[] | null;
}

interface PolicyEventData {
  resourceUrn?: string;
  message: string;
  policyName: string;
  policyPackName: string;
  policyPackVersion?: string;
  enforcementLevel: string;
}

interface EngineEvent {
  resourcePreEvent?: { metadata: ResourcePreMetadata };
  policyEvent?: PolicyEventData;
  summaryEvent?: { resourceChanges?: Record<string, number>; PolicyPacks?: Record<string, string> };
  diagnosticEvent?: { message: string; severity: string; urn?: string };
}

function parseEvents(text: string): EngineEvent[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      try {
        return JSON.parse(line) as EngineEvent;
      } catch {
        throw new Error(`event log line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
      }
    });
}

function changeOf(
  op: string,
  urn: string,
  before: ResourceState | undefined,
  after: ResourceState | undefined,
  detailedDiff: Record<string, { kind?: string; diffKind?: string }> | null | undefined,
  fallbackPaths: string[],
): ResourceChange {
  const { type, name } = urnParts(urn);
  return {
    operation: op,
    type,
    name,
    properties: propertyChanges(type, detailedDiff, fallbackPaths, before, after),
  };
}

const stripColour = (text: string) => text.replace(/<\{%[^%]*%\}>/g, "").replace(/\s+$/, "");

function violationOf(e: PolicyEventData, remediationFor: PreviewSources["remediationFor"]): PolicyViolation {
  // The engine sends "<policy description>\n<violation message>".
  const message = stripColour(e.message);
  const newline = message.indexOf("\n");
  const description = newline < 0 ? message : message.slice(0, newline).trim();
  const violation = newline < 0 ? "" : message.slice(newline + 1).trim();
  const remediation = remediationFor?.(e.policyName);
  return {
    enforcement: e.enforcementLevel,
    policyPack: e.policyPackName,
    policy: e.policyName,
    ...(e.resourceUrn ? { resource: urnParts(e.resourceUrn) } : {}),
    description,
    violation,
    ...(remediation ? { remediation } : {}),
  };
}

export function parsePreview(sources: PreviewSources): StackPreview {
  if (sources.previewJson === undefined && sources.eventLog === undefined)
    throw new Error(`stack ${sources.stack}: give the preview's --json output, its event log, or both`);
  let json: PreviewJson | undefined;
  if (sources.previewJson !== undefined && sources.previewJson.trim() !== "") {
    try {
      json = JSON.parse(sources.previewJson) as PreviewJson;
    } catch {
      throw new Error(`stack ${sources.stack}: the preview output is not JSON (was it run with --json?)`);
    }
  }
  const events = sources.eventLog !== undefined ? parseEvents(sources.eventLog) : [];

  const changes: ResourceChange[] = [];
  let counts: Record<string, number> = {};
  if (json?.steps?.length) {
    for (const step of json.steps) {
      counts[step.op] = (counts[step.op] ?? 0) + 1;
      if (step.op === "same" || REPLACEMENT_PARTS.has(step.op)) continue;
      const fallback = [...(step.replaceReasons ?? []), ...(step.diffReasons ?? [])];
      changes.push(changeOf(step.op, step.urn, step.oldState, step.newState, step.detailedDiff, fallback));
    }
  } else {
    for (const { resourcePreEvent } of events) {
      const m = resourcePreEvent?.metadata;
      if (!m) continue;
      if (REPLACEMENT_PARTS.has(m.op)) continue;
      counts[m.op] = (counts[m.op] ?? 0) + 1;
      if (m.op === "same") continue;
      const fallback = [...(m.keys ?? []), ...(m.diffs ?? [])];
      changes.push(changeOf(m.op, m.urn, m.old ?? undefined, m.new ?? undefined, m.detailedDiff, fallback));
    }
  }
  const summary = events.find((e) => e.summaryEvent)?.summaryEvent;
  if (json?.changeSummary) counts = { ...json.changeSummary };
  else if (summary?.resourceChanges) counts = { ...summary.resourceChanges };

  // The pack reports in whatever order its checks finish: sort for a stable comment.
  const violationOrder = (v: PolicyViolation) =>
    [v.enforcement === "mandatory" ? 0 : 1, v.policy, v.resource?.name ?? "", v.violation].join("\u0000");
  const violations = events
    .filter((e) => e.policyEvent)
    .map((e) => violationOf(e.policyEvent!, sources.remediationFor))
    .sort((a, b) => violationOrder(a).localeCompare(violationOrder(b)));
  const diagnostics = [
    ...(json?.diagnostics ?? []),
    ...events.flatMap((e) => (e.diagnosticEvent ? [e.diagnosticEvent] : [])),
  ];
  const mandatoryFailed = violations.some((v) => v.enforcement === "mandatory");
  const errors = [
    ...new Set(
      diagnostics
        .filter((d) => d.severity === "error")
        .map((d) => stripColour(d.message).replace(/^error: /, "")),
    ),
  ]
    // The engine's closing "preview failed" says nothing the violations do not.
    .filter((message) => !(mandatoryFailed && message === "preview failed"));
  // Keys look like "chatapi-policies|local|/path/to/policies" (name, source, location).
  const policyPacks = Object.entries(summary?.PolicyPacks ?? {}).map(
    ([key, version]) => `${key.split("|")[0]}@${version}`,
  );
  const failed =
    (sources.exitCode !== undefined && sources.exitCode !== 0) || errors.length > 0 || mandatoryFailed;
  const order = (c: ResourceChange) => `${c.type}\u0000${c.name}`;
  return {
    stack: sources.stack,
    outcome: failed ? "failed" : "succeeded",
    counts,
    changes: changes.sort((a, b) => order(a).localeCompare(order(b))),
    violations,
    errors,
    policyPacks,
  };
}
