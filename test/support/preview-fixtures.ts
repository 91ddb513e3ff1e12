// Golden inputs of scripts/preview-comment, captured from the real engine by the engine tests
// (CHATAPI_UPDATE_GOLDEN=1 rewrites them) and re-rendered by the unit tests. What is kept is
// the engine's own output, reduced to what the comment reads and freed of machine details:
//  - preview JSON: every step; unchanged ("same") steps keep only op and urn; no sourcePosition;
//  - event log: resourcePreEvents (same ones reduced to op, urn, type), policyEvents,
//    summaryEvent and non-debug diagnostics. Debug diagnostics are dropped: they carry each
//    registration's response, Kubernetes Secret data included.
// Temp folders, this checkout's path and provider ids are replaced by placeholders.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths";

export const fixtureDir = join(repoRoot, "scripts", "lib", "preview-comment", "fixtures");

export const updateGolden = process.env.CHATAPI_UPDATE_GOLDEN === "1";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function withoutSourcePositions(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutSourcePositions);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "sourcePosition")
        .map(([k, v]) => [k, withoutSourcePositions(v)]),
    );
  return value;
}

function placeholders(text: string, tempDir: string): string {
  return text
    .split(tempDir)
    .join("<tmp>")
    .split(repoRoot)
    .join("<repo>")
    .replace(
      /(pulumi:providers:[\w-]+::[\w-]+)::[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
      "$1::<id>",
    );
}

export function reducePreviewJson(text: string, tempDir: string): string {
  const preview = withoutSourcePositions(JSON.parse(text) as Json) as {
    steps?: { op: string; urn: string }[];
  };
  preview.steps = (preview.steps ?? []).map((s) => (s.op === "same" ? { op: s.op, urn: s.urn } : s));
  // One step per line: small enough to commit, still readable in a diff.
  const body = Object.entries(preview)
    .map(([k, v]) =>
      k === "steps" && Array.isArray(v)
        ? `"steps": [\n${v.map((step) => JSON.stringify(step)).join(",\n")}\n]`
        : `${JSON.stringify(k)}: ${JSON.stringify(v)}`,
    )
    .join(",\n");
  return placeholders(`{\n${body}\n}\n`, tempDir);
}

interface Event {
  resourcePreEvent?: { metadata: { op: string; urn: string; type: string } };
  policyEvent?: unknown;
  summaryEvent?: unknown;
  diagnosticEvent?: { severity: string };
}

export function reduceEventLog(text: string, tempDir: string): string {
  const kept: Json[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Event;
    if (event.resourcePreEvent) {
      const m = event.resourcePreEvent.metadata;
      kept.push(
        m.op === "same"
          ? { resourcePreEvent: { metadata: { op: m.op, urn: m.urn, type: m.type } } }
          : (withoutSourcePositions({ resourcePreEvent: event.resourcePreEvent } as unknown as Json) as Json),
      );
    } else if (event.policyEvent) kept.push({ policyEvent: event.policyEvent as Json });
    else if (event.summaryEvent) kept.push({ summaryEvent: event.summaryEvent as Json });
    else if (event.diagnosticEvent && event.diagnosticEvent.severity !== "debug")
      kept.push({ diagnosticEvent: event.diagnosticEvent as unknown as Json });
  }
  return placeholders(kept.map((e) => JSON.stringify(e)).join("\n") + "\n", tempDir);
}

export function readFixture(name: string): string {
  const path = join(fixtureDir, name);
  if (!existsSync(path))
    throw new Error(
      `fixture ${path} is missing: run the engine tests with CHATAPI_UPDATE_GOLDEN=1 to capture it`,
    );
  return readFileSync(path, "utf8");
}

export function writeFixture(name: string, text: string): void {
  writeFileSync(join(fixtureDir, name), text);
}
