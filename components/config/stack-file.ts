// Reads Pulumi.<stack>.yaml (plus the project-level defaults in Pulumi.yaml) into the config
// map Pulumi would hand the program, so tests and render scripts can build a stack's plan
// without the Pulumi CLI. Encrypted (`secure:`) values cannot be read here: the caller
// supplies those values (as a user would with `pulumi config set --secret`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export interface StackFileConfig {
  config: Record<string, string>;
  secretKeys: string[];
  /** Keys whose encrypted values were in the file and were not supplied. */
  encryptedKeys: string[];
}

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };

function isSecure(value: Yaml): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "secure" in value;
}

function containsSecure(value: Yaml): boolean {
  if (isSecure(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecure);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecure);
  return false;
}

function asConfigText(value: Yaml): string {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

/** Project-level `config:` defaults of Pulumi.yaml (declarations without a default add nothing). */
function projectDefaults(projectDir: string): Record<string, string> {
  const project = parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as {
    config?: Record<string, Yaml>;
  };
  const out: Record<string, string> = {};
  for (const [name, declaration] of Object.entries(project.config ?? {})) {
    // Un-namespaced keys belong to the project (chatapi:<name>).
    const key = name.includes(":") ? name : `chatapi:${name}`;
    if (typeof declaration === "object" && declaration !== null && !Array.isArray(declaration)) {
      if ("default" in declaration && declaration.default !== undefined)
        out[key] = asConfigText(declaration.default);
    } else if (declaration !== null) {
      out[key] = asConfigText(declaration);
    }
  }
  return out;
}

export function readStackFile(
  projectDir: string,
  stack: string,
  secrets: Record<string, string> = {},
): StackFileConfig {
  const file = parse(readFileSync(join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, Yaml>;
  };
  const config: Record<string, string> = projectDefaults(projectDir);
  const secretKeys: string[] = [];
  const encryptedKeys: string[] = [];
  for (const [key, value] of Object.entries(file.config ?? {})) {
    if (containsSecure(value)) {
      secretKeys.push(key);
      if (!(key in secrets)) encryptedKeys.push(key);
      continue;
    }
    config[key] = asConfigText(value);
  }
  for (const [key, value] of Object.entries(secrets)) {
    config[key] = value;
    if (!secretKeys.includes(key)) secretKeys.push(key);
  }
  return { config, secretKeys, encryptedKeys };
}

/** The app version (app/package.json), the tag of the app image built from app/Dockerfile. */
export function readAppVersion(projectDir: string): string {
  const pkg = JSON.parse(readFileSync(join(projectDir, "app", "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
