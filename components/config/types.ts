// The stack config's types, derived from the config table (./schema.ts): a key with a default
// (or an object with a key that has one) is always there after defaults; any other key is
// optional. Nothing here is written by hand, so the types cannot drift from the schema.
import type { FromSchema, JSONSchema } from "json-schema-to-ts";
import type { Environment, ImagePreset, Target } from "./fragments";
import type { SecretConfigKey, configTable } from "./schema";

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Whether a table node gets a value from the defaults. */
type HasDefault<N> = N extends { default: unknown }
  ? true
  : N extends { properties: infer P }
    ? true extends { [K in keyof P]: HasDefault<P[K]> }[keyof P]
      ? true
      : false
    : false;

type Leaf<N> = N extends JSONSchema ? FromSchema<N> : never;

/** The value of a table node after defaults. */
type SettingsOf<N> = N extends { type: "object"; properties: infer P }
  ? HasDefault<N> extends true
    ? Simplify<
        { -readonly [K in keyof P as HasDefault<P[K]> extends true ? K : never]-?: SettingsOf<P[K]> } & {
          -readonly [K in keyof P as HasDefault<P[K]> extends true ? never : K]?: SettingsOf<P[K]>;
        }
      >
    : Leaf<N>
  : Leaf<N>;

/** The stack config as written (every key optional except target and environment). */
export type ConfigInput = FromSchema<typeof configTable, { keepDefaultedPropertiesOptional: true }>;

/** The validated stack config after per-environment defaults: what the plan is built from. */
export type StackSettings = Omit<SettingsOf<typeof configTable>, SecretConfigKey>;

export type { Environment, ImagePreset, SecretConfigKey, Target };
export type ResourceSettings = Pick<StackSettings["api"], "cpu" | "memory" | "pidsLimit">;

/**
 * The stack config: plain settings plus the secret values that were set. Secret values are
 * plain strings here only so they can be validated; the program wraps them with
 * pulumi.secret() before any resource sees them, and nothing prints them.
 */
export interface StackConfig {
  stack: string;
  settings: StackSettings;
  secrets: Partial<Record<SecretConfigKey, string>>;
}

/** Recursively optional: the shape of per-environment default overrides. */
export type DeepPartial<T> = T extends readonly (infer _U)[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;
