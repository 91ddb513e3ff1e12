// A Docker stack's plan without the Pulumi CLI: Pulumi.<file>.yaml, plus `--set` overrides and
// config secrets from files, validated exactly as the Pulumi program validates them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildPlan } from "../../components/plan/build-plan";
import type { DeploymentPlan } from "../../components/plan/types";
import { loadStackConfig } from "../../components/config/load";
import { readAppVersion, readStackFile } from "../../components/config/stack-file";
import type { StackConfig } from "../../components/config/types";

export interface StackPlanInput {
  root: string;
  /** Stack name: names every resource (chatapi-<stack>-...). */
  stack: string;
  /** Which Pulumi.<file>.yaml to read (default: the stack name). */
  stackFile?: string;
  /** "key.path=value" overrides, like `pulumi config set --path chatapi:key.path value`. */
  set?: string[];
  /** Config secrets by key (tlsCertificate, smtpPassword, ...). */
  secrets?: Record<string, string>;
}

export interface StackPlan {
  plan: DeploymentPlan;
  config: StackConfig;
  appVersion: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A `--set` value: JSON when it parses as such (numbers, booleans, lists), else the text. */
function parseValue(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/** Applies "a.b.c=value" to the config map (keys chatapi:<a>, nested objects as JSON text). */
export function applyOverrides(config: Record<string, string>, overrides: string[]): Record<string, string> {
  const out = { ...config };
  for (const override of overrides) {
    const eq = override.indexOf("=");
    if (eq <= 0) throw new Error(`--set ${override}: expected key.path=value (e.g. nginx.httpsPort=9443)`);
    const [top, ...path] = override
      .slice(0, eq)
      .replace(/^chatapi:/, "")
      .split(".");
    const value = parseValue(override.slice(eq + 1));
    const key = `chatapi:${top}`;
    if (path.length === 0) {
      out[key] = typeof value === "string" ? value : JSON.stringify(value);
      continue;
    }
    const root = (out[key] ? (JSON.parse(out[key]) as Json) : {}) as { [key: string]: Json };
    let node = root;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      node = (
        typeof next === "object" && next !== null && !Array.isArray(next) ? next : (node[part] = {})
      ) as {
        [key: string]: Json;
      };
    }
    node[path.at(-1)!] = value;
    out[key] = JSON.stringify(root);
  }
  return out;
}

/** Config secrets kept as files named by their key (<dir>/tlsCertificate, ...). */
export function readConfigSecrets(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).map((key) => [key, readFileSync(join(dir, key), "utf8")]));
}

export function loadStackPlan(input: StackPlanInput): StackPlan {
  const appVersion = readAppVersion(input.root);
  const secrets = Object.fromEntries(
    Object.entries(input.secrets ?? {}).map(([key, value]) => [`chatapi:${key}`, value]),
  );
  const file = readStackFile(input.root, input.stackFile ?? input.stack, secrets);
  const config = loadStackConfig({
    stack: input.stack,
    config: applyOverrides(file.config, input.set ?? []),
    secretKeys: file.secretKeys,
    appVersion,
    unreadableSecrets: file.encryptedKeys,
  });
  return { plan: buildPlan({ config, appVersion }), config, appVersion };
}
