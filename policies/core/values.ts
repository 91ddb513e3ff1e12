// Reading untyped resource properties safely: everything a rule reads comes through here.

export type Dict = Record<string, unknown>;

export const isDict = (value: unknown): value is Dict =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export const dict = (value: unknown): Dict => (isDict(value) ? value : {});

export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export const dicts = (value: unknown): Dict[] => list(value).filter(isDict);

export const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** A number, or a numeric string ("3"): YAML and config often carry numbers as text. */
export function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/** Follows a path of keys through nested objects. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isDict(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * Reads a value the engine may not know yet during `pulumi preview` (an output of another
 * resource). CrossGuard's property proxy throws UnknownValueError on such a read; where a rule
 * can rightly skip the value (it is checked on the resource that produces it), this returns
 * undefined instead.
 */
export function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof Error && error.constructor.name === "UnknownValueError") return undefined;
    throw error;
  }
}

/** "a", "a and b", "a, b and c". */
export function listText(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

export const quote = (text: string) => JSON.stringify(text);
