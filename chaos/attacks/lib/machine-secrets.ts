// Secret values that exist on this machine, to look for where they must never be: the test
// services' passwords (scripts/setup) and the secrets of every local stack (scripts/local).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const cacheDir = () => process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");

export function machineSecrets(): Record<string, string> {
  const found: Record<string, string> = {};
  const services = join(cacheDir(), "services.env");
  if (existsSync(services)) {
    for (const line of readFileSync(services, "utf8").split("\n")) {
      const match = /^([A-Z0-9_]*(PASSWORD|SECRET|KEY)[A-Z0-9_]*)=(.+)$/.exec(line);
      if (match) found[`services.env ${match[1]}`] = match[3]!;
    }
  }
  const stacks = join(cacheDir(), "stacks");
  if (existsSync(stacks)) {
    for (const stack of readdirSync(stacks)) {
      const dir = join(stacks, stack, "secrets");
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (!statSync(path).isFile() || statSync(path).size > 64 * 1024) continue;
        // Rendered config files only repeat the passwords around template text (which git holds
        // legitimately), and certificates are public.
        if (/_conf$|certificate/.test(name)) continue;
        const value = readFileSync(path, "utf8").trim();
        // Long values only: short ones (a user name) would match by chance.
        if (value.length >= 12) found[`stack ${stack} secret ${name}`] = value;
      }
    }
  }
  return found;
}

/** A PEM private key with a real body (the repository's planted test fixtures have tiny bodies). */
export const REAL_PRIVATE_KEY =
  /-----BEGIN [A-Z ]*PRIVATE KEY-----\s*(?:[A-Za-z0-9+/=]+\s*){4,}[A-Za-z0-9+/=]{200,}/;
