// Stack config → one validated, typed object (or a ConfigError listing every problem).
// Pure: it takes the config map as Pulumi hands it over, so tests and scripts can feed it a
// stack file without the Pulumi engine (see ./stack-file.ts).
import { deriveDefaults, defaultsFor } from "./defaults";
import { ConfigError, type ConfigIssue, NAMESPACE, UNREADABLE_SECRET } from "./issues";
import { parseConfigMap } from "./parse";
import { crossFieldIssues } from "./rules";
import { type SecretConfigKey, secretConfigKeys } from "./schema";
import type { ConfigInput, DeepPartial, StackConfig, StackSettings } from "./types";
import { validateAgainstSchema } from "./validate";

export interface ConfigSource {
  stack: string;
  /** "namespace:key" → value, objects as JSON text (pulumi.runtime.allConfig()). */
  config: Record<string, string>;
  /** Keys whose values are Pulumi secrets (encrypted in the stack file). */
  secretKeys: readonly string[];
  /** Version of the bundled app (app/package.json): the tag of the image built from it. */
  appVersion: string;
  /** For certificate expiry checks. */
  now?: Date;
  /**
   * Secret keys that are set (encrypted in the stack file) but whose values this reader
   * cannot decrypt (scripts/render runs without the Pulumi CLI): they count as set, and checks
   * of their content are skipped.
   */
  unreadableSecrets?: readonly string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge for plain data: objects merge, everything else (lists too) is replaced. */
export function deepMerge<T>(base: T, override: DeepPartial<T> | undefined): T {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    out[key] = key in base ? deepMerge(base[key], value as DeepPartial<unknown>) : value;
  }
  return out as T;
}

/** The settings part of the input: everything but the secret keys. */
function settingsOverride(input: ConfigInput): DeepPartial<StackSettings> {
  const copy: Record<string, unknown> = { ...input };
  for (const key of secretConfigKeys) delete copy[key];
  // The schema-derived input type must fit the settings type: this line fails to compile if
  // schema.ts and types.ts drift apart.
  const typed: Omit<ConfigInput, SecretConfigKey> = copy as Omit<ConfigInput, SecretConfigKey>;
  const fits: DeepPartial<StackSettings> = typed;
  return fits;
}

const pick = <T extends string>(value: unknown, allowed: readonly T[], fallback: T): T =>
  allowed.includes(value as T) ? (value as T) : fallback;

export function loadStackConfig(source: ConfigSource): StackConfig {
  const secretKeys = new Set(source.secretKeys);
  const parsed = parseConfigMap(source.config, secretKeys);
  const issues: ConfigIssue[] = [...parsed.issues];
  issues.push(...validateAgainstSchema(parsed.raw, secretKeys));

  const secrets: Partial<Record<SecretConfigKey, string>> = {};
  for (const key of secretConfigKeys) {
    const value = parsed.raw[key];
    if (typeof value !== "string") continue;
    secrets[key] = value;
    if (!secretKeys.has(`${NAMESPACE}:${key}`)) {
      issues.push({
        key: `${NAMESPACE}:${key}`,
        problem: "is stored in plain text in the stack file",
        expected: `a secret: pulumi config rm ${NAMESPACE}:${key} && pulumi config set --secret ${NAMESPACE}:${key} <value>`,
        actual: "[secret]",
      });
    }
  }

  for (const fullKey of source.unreadableSecrets ?? []) {
    const key = fullKey.slice(NAMESPACE.length + 1) as SecretConfigKey;
    if (fullKey.startsWith(`${NAMESPACE}:`) && secretConfigKeys.includes(key) && !(key in secrets))
      secrets[key] = UNREADABLE_SECRET;
  }

  // Defaults and cross-key rules still run when the schema found problems, so one run lists
  // everything; values of the wrong type are left out of the merge.
  const input = parsed.raw as ConfigInput;
  const images = isPlainObject(input.images) ? input.images : {};
  const settingsDefaults = defaultsFor({
    environment: pick(input.environment, ["local", "production"], "local"),
    target: pick(input.target, ["docker", "kubernetes"], "docker"),
    preset: pick(images.preset, ["upstream", "offline"], "upstream"),
    appVersion: source.appVersion,
  });
  const given =
    issues.length === 0
      ? settingsOverride(input)
      : sanitize<StackSettings>(settingsOverride(input), settingsDefaults);
  const settings = deriveDefaults(deepMerge<StackSettings>(settingsDefaults, given), given);
  issues.push(...crossFieldIssues(settings, secrets, source.now));

  if (issues.length > 0) throw new ConfigError(source.stack, issues);
  return { stack: source.stack, settings, secrets };
}

/** Drops values whose JSON type differs from the default's, so rules see sane types. */
function sanitize<T>(given: DeepPartial<T>, defaults: T): DeepPartial<T> {
  if (!isPlainObject(given)) return given;
  const out: Record<string, unknown> = {};
  const base: Record<string, unknown> = isPlainObject(defaults) ? defaults : {};
  for (const [key, value] of Object.entries(given)) {
    const reference = base[key];
    if (reference === undefined) {
      out[key] = value;
    } else if (isPlainObject(reference)) {
      if (isPlainObject(value)) out[key] = sanitize(value, reference);
    } else if (Array.isArray(reference) ? Array.isArray(value) : typeof value === typeof reference) {
      out[key] = value;
    }
  }
  return out as DeepPartial<T>;
}
