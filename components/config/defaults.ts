// The defaults of a stack, read from the config table (./schema.ts): every key's value for the
// stack's environment, target and image preset, then the defaults that follow from other
// settings (CORS origin, e-mail addresses, HPA minimum, the app's build image).
import { type DefaultsContext, type TableNode, httpsOrigin } from "./fragments";
import { configTable } from "./schema";
import type { DeepPartial, StackSettings } from "./types";

export type { DefaultsContext };
export { httpsOrigin };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Whether a node gets a value from the defaults (types.ts's HasDefault, at run time). */
function hasDefault(node: TableNode): boolean {
  if ("default" in node) return true;
  return Object.values(node.properties ?? {}).some(hasDefault);
}

function valueOf(node: TableNode, ctx: DefaultsContext): unknown {
  if (!("default" in node)) {
    const entries = Object.entries(node.properties ?? {}).filter(([, child]) => hasDefault(child));
    return Object.fromEntries(entries.map(([key, child]) => [key, valueOf(child, ctx)]));
  }
  const value =
    typeof node.default === "function"
      ? (node.default as (c: DefaultsContext) => unknown)(ctx)
      : node.default;
  return structuredClone(value); // a list default is the stack's own, not the table's
}

/**
 * Every default for one environment/target/preset. Values that follow from other settings
 * are filled in by deriveDefaults afterwards.
 */
export function defaultsFor(ctx: DefaultsContext): StackSettings {
  // The walk makes exactly the keys HasDefault makes required; the values are checked against
  // the schema for every context by config.test.ts.
  return valueOf(configTable, ctx) as StackSettings;
}

/** Every `derive`d key of the table, with its path. */
function derivedKeys(node: TableNode, path: string[] = []): { path: string[]; node: TableNode }[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) =>
    child.derive ? [{ path: [...path, key], node: child }] : derivedKeys(child, [...path, key]),
  );
}

const lookup = (object: unknown, path: string[]): unknown =>
  path.reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), object);

/** Fills defaults that follow from other (possibly user-set) settings, where the user set none. */
export function deriveDefaults(settings: StackSettings, given: DeepPartial<StackSettings>): StackSettings {
  const out = structuredClone(settings);
  for (const { path, node } of derivedKeys(configTable)) {
    if (lookup(given, path)) continue;
    const value = node.derive!.from(out);
    if (value === undefined) continue;
    const parent = lookup(out, path.slice(0, -1)) as Record<string, unknown>;
    parent[path.at(-1)!] = value;
  }
  return out;
}
