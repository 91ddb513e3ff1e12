// Schema validation with ajv: every violation at once, each turned into a ConfigIssue that
// names the config key, says what was expected and shows the offending value (secrets
// redacted).
import { isIP } from "node:net";
import Ajv, { type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { cronError } from "./cron";
import { isValidImageReference, parseImageReference } from "./image-ref";
import { type ConfigIssue, NAMESPACE, keyFromPointer, showValue } from "./issues";
import type { JsonSchemaNode } from "./fragments";
import { configSchema } from "./schema";

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || address === undefined || prefix === undefined || !/^[0-9]{1,3}$/.test(prefix)) {
    return false;
  }
  const family = isIP(address);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
addFormats(ajv, ["hostname", "email", "uri", "uuid", "ipv4"]);
ajv.addFormat("image-ref", { type: "string", validate: isValidImageReference });
ajv.addFormat("cron", { type: "string", validate: (value: string) => cronError(value) === undefined });
ajv.addFormat("cidr", { type: "string", validate: isCidr });
// Annotations of schema.ts: no validation of their own.
ajv.addKeyword({ keyword: "secret", schemaType: "boolean" });
ajv.addKeyword({ keyword: "expected", schemaType: "string" });

const validateSchema = ajv.compile(configSchema);

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function unknownKeyIssue(error: ErrorObject, secret: boolean): ConfigIssue {
  const name = String(error.params.additionalProperty);
  const allowed = Object.keys((error.parentSchema as JsonSchemaNode).properties ?? {});
  const near = allowed
    .map((candidate) => ({ candidate, d: distance(name.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  return {
    key: keyFromPointer(error.instancePath, name),
    problem: near ? `unknown key (did you mean ${near.candidate}?)` : "unknown key",
    expected: `one of ${allowed.join(", ")}`,
    actual: showValue((error.data as Record<string, unknown>)[name], secret),
  };
}

function rangeText(node: JsonSchemaNode): string {
  const kind = node.type === "integer" ? "an integer" : "a number";
  if (node.minimum !== undefined && node.maximum !== undefined) {
    return `${kind} from ${node.minimum} to ${node.maximum}`;
  }
  if (node.minimum !== undefined) return `${kind} of at least ${node.minimum}`;
  return `${kind} of at most ${node.maximum}`;
}

function toIssue(error: ErrorObject, secretKeys: ReadonlySet<string>): ConfigIssue | undefined {
  const top = error.instancePath.split("/")[1] ?? String(error.params.missingProperty ?? "");
  const secret = secretKeys.has(`${NAMESPACE}:${top}`);
  const node = (error.parentSchema ?? {}) as JsonSchemaNode;
  const actual = showValue(error.data, secret);
  const key = keyFromPointer(error.instancePath);
  switch (error.keyword) {
    case "required": {
      const missing = String(error.params.missingProperty);
      const child = node.properties?.[missing];
      return {
        key: keyFromPointer(error.instancePath, missing),
        problem: "is required",
        ...(child ? { expected: describe(child) } : {}),
      };
    }
    case "additionalProperties":
      return unknownKeyIssue(error, secret);
    case "type":
      return { key, problem: "has the wrong type", expected: describe(node), actual };
    case "minimum":
    case "maximum":
      return { key, problem: "is out of range", expected: rangeText(node), actual };
    case "enum":
      return { key, problem: "is not an allowed value", expected: describe(node), actual };
    case "format": {
      let problem = "is not valid";
      if (node.format === "cron" && typeof error.data === "string") {
        problem = `is not a valid cron expression (${cronError(error.data)})`;
      } else if (node.format === "image-ref" && typeof error.data === "string") {
        const parsed = parseImageReference(error.data);
        problem = `is not a usable image reference (${"error" in parsed ? parsed.error : "invalid"})`;
      }
      return { key, problem, expected: describe(node), actual };
    }
    case "pattern":
    case "not":
      return { key, problem: "is not valid", expected: describe(node), actual };
    case "minLength":
      return { key, problem: "is empty", expected: describe(node), actual };
    case "minItems":
      return { key, problem: "has too few entries", expected: `at least ${node.minItems}`, actual };
    default:
      return { key, problem: error.message ?? "is not valid", actual };
  }
}

/** A phrase for what a schema node accepts. */
export function describe(node: JsonSchemaNode): string {
  if (node.expected) return node.expected;
  if (node.enum) return `one of ${node.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  if (node.minimum !== undefined || node.maximum !== undefined) return rangeText(node);
  if (node.format) {
    const formats: Record<string, string> = {
      hostname: "a DNS host name",
      email: "an e-mail address",
      uri: "an absolute URL",
      uuid: "a UUID",
      ipv4: "an IPv4 address",
    };
    return formats[node.format] ?? node.format;
  }
  const types: Record<string, string> = {
    integer: "an integer",
    number: "a number",
    boolean: "true or false",
    object: "an object (nested keys)",
    array: "a list",
    string: "a string",
  };
  return types[node.type ?? ""] ?? "a valid value";
}

export function validateAgainstSchema(raw: unknown, secretKeys: ReadonlySet<string>): ConfigIssue[] {
  if (validateSchema(raw)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of validateSchema.errors ?? []) {
    // A value that failed `not` also reports the inner const; one line per key is enough.
    const issue = toIssue(error, secretKeys);
    if (!issue) continue;
    const id = `${issue.key}|${issue.problem}`;
    if (seen.has(id)) continue;
    seen.add(id);
    issues.push(issue);
  }
  return issues;
}
