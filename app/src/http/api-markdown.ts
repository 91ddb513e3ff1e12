// docs/API.md from the OpenAPI document (npm run docs:api writes it; a test fails when it is
// stale): every operation with its authentication, parameters, request fields, responses and
// error statuses, in the order the document lists them.
import { VERSION } from "../version.js";
import { openApiDocument } from "./openapi.js";

/** The prefix and title docs/API.md documents: the app's defaults. */
const DOCUMENTED = { prefix: "/api/v1", title: "ChatAPI" };
type Schema = {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  description?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
};
type Operation = {
  summary: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
};
export type OpenApiDocument = {
  info: { title: string; version: string; description?: string };
  components?: {
    securitySchemes?: Record<
      string,
      { type: string; in?: string; name?: string; scheme?: string; description?: string }
    >;
  };
  paths: Record<string, Record<string, Operation>>;
};

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function typeOf(schema: Schema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" or ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : (schema.type ?? "any");
  if (type === "array") return `array of ${schema.items ? typeOf(schema.items) : "any"}`;
  return schema.format ? `${type} (${schema.format})` : type;
}

function limits(schema: Schema): string {
  const parts: string[] = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined)
    parts.push(`${schema.minLength ?? 0}..${schema.maxLength ?? "∞"} characters`);
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    parts.push(`${schema.minimum ?? "-∞"}..${schema.maximum ?? "∞"}`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} items`);
  return parts.join(", ");
}

/** One row per field, nested objects (and objects in arrays) as dotted paths. */
function fieldRows(schema: Schema, prefix = "", depth = 0): string[] {
  const object = schema.type === "array" && schema.items?.properties ? schema.items : schema;
  const base = schema.type === "array" && schema.items?.properties ? `${prefix}[]` : prefix;
  return Object.entries(object.properties ?? {}).flatMap(([name, field]) => {
    const path = base ? `${base}.${name}` : name;
    const notes = [field.description, limits(field)].filter(Boolean).join("; ");
    const row = `| \`${path}\` | ${cell(typeOf(field))} | ${object.required?.includes(name) ? "yes" : "no"} | ${cell(notes)} |`;
    const nested =
      depth < 2 && (field.properties || field.items?.properties) ? fieldRows(field, path, depth + 1) : [];
    return [row, ...nested];
  });
}

const fieldTable = (schema: Schema) =>
  ["| field | type | required | notes |", "|---|---|---|---|", ...fieldRows(schema)].join("\n");

function authOf(doc: OpenApiDocument, op: Operation): string {
  if (!op.security?.length) return "none";
  return op.security
    .flatMap((s) => Object.keys(s))
    .map((name) => doc.components?.securitySchemes?.[name]?.description ?? name)
    .join(", or ");
}

function operation(doc: OpenApiDocument, method: string, path: string, op: Operation): string {
  const lines = [
    `### \`${method.toUpperCase()} ${path}\``,
    "",
    op.summary,
    "",
    `Authentication: ${authOf(doc, op)}.`,
  ];
  const params = op.parameters ?? [];
  if (params.length > 0)
    lines.push(
      "",
      "| parameter | in | type | required | description |",
      "|---|---|---|---|---|",
      ...params.map(
        (p) =>
          `| \`${p.name}\` | ${p.in} | ${cell(typeOf(p.schema))} | ${p.required ? "yes" : "no"} | ${cell(p.description ?? "")} |`,
      ),
    );
  const body = op.requestBody?.content["application/json"]?.schema;
  if (body) lines.push("", "Request body (JSON):", "", fieldTable(body));
  const statuses = Object.entries(op.responses);
  for (const [status, response] of statuses.filter(([s]) => Number(s) < 400)) {
    const schema = response.content?.["application/json"]?.schema;
    lines.push("", `Response ${status}: ${response.description}.`);
    if (schema?.properties || schema?.items?.properties) lines.push("", fieldTable(schema));
  }
  const errors = statuses.filter(([s]) => Number(s) >= 400);
  if (errors.length > 0)
    lines.push("", `Errors: ${errors.map(([s, r]) => `${s} (${r.description})`).join(", ")}.`);
  return lines.join("\n");
}

export function renderApiMarkdown(doc: OpenApiDocument, specPath: string): string {
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method, path, op })),
  );
  const schemes = Object.entries(doc.components?.securitySchemes ?? {});
  return [
    `# ${doc.info.title} API ${doc.info.version}`,
    "",
    `<!-- Generated by \`npm run docs:api\` from the app's OpenAPI document (${specPath}); app/test/api-markdown.test.ts fails when it is stale. -->`,
    "",
    `The REST API, as the app's own OpenAPI 3.1 document describes it (\`GET ${specPath}\` on a running instance; a local stack's web console renders it at \`/console/api-reference/\`). Errors always have the body \`{"error": {"code", "message", "details"?}}\`.`,
    "",
    doc.info.description ?? "",
    "",
    "## Authentication",
    "",
    "| scheme | how | what |",
    "|---|---|---|",
    ...schemes.map(
      ([name, s]) =>
        `| \`${name}\` | ${s.type === "apiKey" ? `\`${s.name}\` ${s.in}` : `\`Authorization: Bearer\``} | ${cell(s.description ?? "")} |`,
    ),
    "",
    "## Operations",
    "",
    "| method | path | summary |",
    "|---|---|---|",
    ...operations.map(
      ({ method, path, op }) => `| ${method.toUpperCase()} | \`${path}\` | ${cell(op.summary)} |`,
    ),
    "",
    ...operations.flatMap(({ method, path, op }) => [operation(doc, method, path, op), ""]),
  ].join("\n");
}

/** docs/API.md as it should read for this version of the app. */
export function documentedApiMarkdown(): string {
  const doc = openApiDocument({ ...DOCUMENTED, version: VERSION }) as unknown as OpenApiDocument;
  return renderApiMarkdown(doc, `${DOCUMENTED.prefix}/openapi.json`);
}
