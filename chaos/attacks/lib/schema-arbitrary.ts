// JSON Schema (as in the service's OpenAPI document) → fast-check arbitraries that produce mostly
// valid values with hostile ones mixed in at every level: wrong types, out-of-range sizes,
// unicode edge cases, missing required keys, extra keys. Ids can be drawn from a pool of ids that
// exist, so a fuzzed request also reaches the code behind validation.
import fc from "fast-check";

export interface JsonSchema {
  type?: string | string[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
}

/** Printable ASCII: what may go in an HTTP header or a URL without the client refusing it. */
export const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** Strings that tend to break parsers, databases and loggers. */
const nasty = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "null",
  "undefined",
  "NaN",
  "-1",
  "1e309",
  "9007199254740993",
  "../../etc/passwd",
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  "%00%ff",
  "\ud800",
  "\udfff\ud800",
  "🙂".repeat(2000),
  "a".repeat(4001),
  "\u202e\u0301\ufeff",
  "{{7*7}}",
  "__proto__",
  "constructor",
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 2 ** 63, null, true, false, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant({ __proto__: { is_admin: true } }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
);

export interface ArbitraryOptions {
  /** Ids that exist (users, rooms, clients): drawn for `format: uuid` often. */
  ids: string[];
  /** Chance (0..1) that a value is replaced by a hostile one. */
  hostility?: number;
}

function stringFor(schema: JsonSchema, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  if (schema.format === "uuid") {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...options.ids) },
      { weight: 2, arbitrary: fc.uuid() },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...options.ids).map((id) => id.toUpperCase()),
      },
    );
  }
  if (schema.format === "email") return fc.emailAddress();
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 300, 5000);
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, 64) }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: min, maxLength: max }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: min, maxLength: Math.min(max, 512) }) },
    { weight: 1, arbitrary: fc.constant("x".repeat(max)) },
    { weight: 1, arbitrary: fc.constant("x".repeat(max + 1)) },
  );
}

function validFor(schema: JsonSchema, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => arbitraryFor(s, options)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return stringFor(schema, options);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1_000_000 });
    case "number":
      return fc.double({ noNaN: true });
    case "array":
      return fc.array(arbitraryFor(schema.items ?? {}, options), {
        maxLength: Math.min(schema.maxItems ?? 5, 5),
      });
    case "object": {
      const props = schema.properties ?? {};
      const keys = Object.keys(props);
      const record = fc.record(
        Object.fromEntries(keys.map((k) => [k, arbitraryFor(props[k]!, options)])),
        // Required keys are there most of the time; sometimes one is missing.
        { requiredKeys: [] },
      );
      const required = fc.record(Object.fromEntries(keys.map((k) => [k, arbitraryFor(props[k]!, options)])), {
        requiredKeys: schema.required ?? [],
      });
      const extra = fc.dictionary(printable(20), hostileValue, { maxKeys: 3 });
      return fc.oneof(
        { weight: 4, arbitrary: required },
        { weight: 1, arbitrary: record },
        { weight: 1, arbitrary: fc.tuple(required, extra).map(([r, e]) => ({ ...e, ...r })) },
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values for `schema`: valid most of the time, hostile with probability `hostility` (default 0.2) at each level. */
export function arbitraryFor(schema: JsonSchema, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const hostility = options.hostility ?? 0.2;
  const hostileWeight = Math.max(1, Math.round(hostility * 10));
  return fc.oneof(
    { weight: 10 - hostileWeight, arbitrary: validFor(schema, options) },
    { weight: hostileWeight, arbitrary: hostileValue },
  );
}
