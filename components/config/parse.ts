// Pulumi hands a program its config as a flat map of "namespace:key" → string, objects as JSON
// text. This turns the chatapi: part into one object the schema can check.
import { configSchema } from "./schema";
import { type ConfigIssue, NAMESPACE, showValue } from "./issues";

export interface ParsedConfig {
  raw: Record<string, unknown>;
  issues: ConfigIssue[];
}

type PropertySchema = { type?: string };

export function parseConfigMap(
  config: Record<string, string>,
  secretKeys: ReadonlySet<string>,
): ParsedConfig {
  const raw: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  const properties = configSchema.properties as Record<string, PropertySchema>;
  for (const [fullKey, text] of Object.entries(config)) {
    if (!fullKey.startsWith(`${NAMESPACE}:`)) continue; // other namespaces belong to providers
    const key = fullKey.slice(NAMESPACE.length + 1);
    const type = properties[key]?.type;
    if (type !== "object" && type !== "array") {
      raw[key] = text;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    const fits =
      type === "array"
        ? Array.isArray(value)
        : typeof value === "object" && value !== null && !Array.isArray(value);
    if (fits) {
      raw[key] = value;
      continue;
    }
    issues.push({
      key: fullKey,
      problem: `is not ${type === "object" ? "an object" : "a list"}`,
      expected: `nested keys, set with: pulumi config set --path ${fullKey}${type === "object" ? ".<key>" : "[0]"} <value>`,
      actual: showValue(text, secretKeys.has(fullKey)),
    });
  }
  return { raw, issues };
}
