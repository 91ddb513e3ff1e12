// Writes StackPreviews as the Markdown of one pull-request comment: a summary line per stack,
// then per stack a table of changed resources (operation, changed properties with old and new
// values; secrets already masked by parse.ts) and a table of policy violations.
import type { PolicyViolation, PropertyChange, ResourceChange, StackPreview } from "./model";

/** First line of the comment: CI finds its earlier comment by it and edits that one. */
export const COMMENT_MARKER = "<!-- chatapi:preview-comment -->";

const OPERATION_ORDER = ["create", "update", "replace", "delete", "import", "read", "refresh"];
const OPERATION_WORDS: Record<string, string> = {
  create: "to create",
  update: "to update",
  replace: "to replace",
  delete: "to delete",
  import: "to import",
  read: "to read",
  refresh: "to refresh",
};
const MAX_PROPERTIES = 12;

/** Text inside a table cell: pipes escaped, line breaks as <br>. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");

/** An inline code span that survives backticks in the text. */
function code(text: string): string {
  const fence = text.includes("`") ? "``" : "`";
  return cell(`${fence}${fence.length > 1 ? " " : ""}${text}${fence.length > 1 ? " " : ""}${fence}`);
}

export function changeSummary(counts: Record<string, number>): string {
  const ops = Object.keys(counts).filter((op) => op !== "same" && (counts[op] ?? 0) > 0);
  ops.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const parts = ops.map((op) => `${counts[op]} ${OPERATION_WORDS[op] ?? op}`);
  const same = counts.same ?? 0;
  if (parts.length === 0) return same > 0 ? `no changes (${same} unchanged)` : "no resources";
  return same > 0 ? `${parts.join(", ")}, ${same} unchanged` : parts.join(", ");
}

function rank(op: string): number {
  const i = OPERATION_ORDER.indexOf(op);
  return i < 0 ? OPERATION_ORDER.length : i;
}

function policySummary(p: StackPreview): string {
  const mandatory = p.violations.filter((v) => v.enforcement === "mandatory").length;
  const advisory = p.violations.length - mandatory;
  if (p.violations.length === 0)
    return p.policyPacks.length > 0 ? `policies passed (${p.policyPacks.join(", ")})` : "no policy pack ran";
  const parts = [
    ...(mandatory ? [`${mandatory} mandatory policy violation${mandatory > 1 ? "s" : ""}`] : []),
    ...(advisory ? [`${advisory} advisory`] : []),
  ];
  return parts.join(", ");
}

export function summaryLine(p: StackPreview): string {
  const icon = p.outcome === "failed" ? "❌" : p.violations.length > 0 ? "⚠️" : "✅";
  const result =
    p.outcome === "failed" && p.errors.length > 0 && p.violations.length === 0 ? "preview failed; " : "";
  return `- ${icon} **${cell(p.stack)}**: ${result}${changeSummary(p.counts)}; ${policySummary(p)}`;
}

function propertyText(c: PropertyChange): string {
  const values =
    c.before !== undefined && c.after !== undefined
      ? `: ${code(c.before)} → ${code(c.after)}`
      : c.after !== undefined
        ? `: ${code(c.after)}`
        : c.before !== undefined
          ? `: was ${code(c.before)}`
          : "";
  const kind = c.kind === "update" ? "" : ` (${c.kind})`;
  return `${code(c.path)}${kind}${c.replaces ? " **forces replacement**" : ""}${values}`;
}

function propertiesCell(change: ResourceChange): string {
  if (change.properties.length === 0)
    return change.operation === "create" || change.operation === "delete" ? "" : "—";
  const shown = change.properties.slice(0, MAX_PROPERTIES).map(propertyText);
  const more = change.properties.length - shown.length;
  return [...shown, ...(more > 0 ? [`… and ${more} more`] : [])].join("<br>");
}

function changesTable(p: StackPreview): string[] {
  if (p.changes.length === 0) return [];
  const rows = [...p.changes]
    .sort((a, b) => rank(a.operation) - rank(b.operation))
    .map((c) => `| ${c.operation} | ${code(c.name)} | ${code(c.type)} | ${propertiesCell(c)} |`);
  return [
    `#### \`${p.stack}\`: ${p.changes.length} changed resource${p.changes.length > 1 ? "s" : ""}`,
    "",
    "| operation | resource | type | changed properties |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ];
}

function violationRow(v: PolicyViolation): string {
  const resource = v.resource ? `${code(v.resource.name)}<br>${code(v.resource.type)}` : "(stack)";
  const what = v.violation
    ? `${cell(v.violation)}<br><sub>${cell(v.description)}</sub>`
    : cell(v.description);
  return `| ${v.enforcement} | ${code(v.policy)} | ${resource} | ${what} | ${cell(v.remediation ?? "—")} |`;
}

function violationsTable(p: StackPreview): string[] {
  if (p.violations.length === 0) return [];
  const sorted = [...p.violations].sort(
    (a, b) =>
      Number(b.enforcement === "mandatory") - Number(a.enforcement === "mandatory") ||
      a.policy.localeCompare(b.policy) ||
      (a.resource?.name ?? "").localeCompare(b.resource?.name ?? ""),
  );
  return [
    `#### \`${p.stack}\`: policy violations`,
    "",
    "| level | policy | resource | violation | remediation |",
    "| --- | --- | --- | --- | --- |",
    ...sorted.map(violationRow),
    "",
  ];
}

function errorsList(p: StackPreview): string[] {
  if (p.errors.length === 0) return [];
  return [`#### \`${p.stack}\`: errors`, "", ...p.errors.map((e) => `- ${cell(e)}`), ""];
}

export function renderComment(previews: StackPreview[], title = "Pulumi preview"): string {
  const lines = [COMMENT_MARKER, `### ${title}`, "", ...previews.map(summaryLine), ""];
  for (const p of previews) lines.push(...changesTable(p), ...violationsTable(p), ...errorsList(p));
  return `${lines.join("\n").replace(/\n+$/, "")}\n`;
}
