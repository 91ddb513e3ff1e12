// The engine the docker CLI would drive, found the way the CLI finds it: DOCKER_HOST, else the
// context named by DOCKER_CONTEXT, else config.json's currentContext, else the local socket. It
// reads the CLI's own files (what `docker context inspect` reads), so no docker CLI is needed
// where Pulumi runs: the store is DOCKER_CONFIG (default ~/.docker), a context's metadata is
// contexts/meta/<sha256 of its name>/meta.json and its TLS files contexts/tls/<same>/docker/.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** PEM files found with an engine (any may be missing). */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface EngineEndpoint {
  host: string;
  /** Where the host came from, in words for messages. */
  source: string;
  /** TLS files that came with it: the context's (unless it skips verification), or DOCKER_CERT_PATH's. */
  tls?: TlsFiles;
}

interface ContextMeta {
  Name?: string;
  Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
}

export const dockerConfigDir = (env: NodeJS.ProcessEnv): string =>
  env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker");

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** ca.pem, cert.pem and key.pem of a folder, those that exist. */
function tlsFilesIn(dir: string): TlsFiles | undefined {
  const files: TlsFiles = {};
  for (const [part, name] of [
    ["ca", "ca.pem"],
    ["cert", "cert.pem"],
    ["key", "key.pem"],
  ] as const) {
    const file = join(dir, name);
    if (existsSync(file)) files[part] = readFileSync(file, "utf8");
  }
  return Object.keys(files).length > 0 ? files : undefined;
}

/** The context the CLI would use, and which setting named it; undefined: the default context. */
function currentContext(
  env: NodeJS.ProcessEnv,
  configDir: string,
): { name: string; from: string } | undefined {
  if (env.DOCKER_CONTEXT)
    return env.DOCKER_CONTEXT === "default"
      ? undefined
      : { name: env.DOCKER_CONTEXT, from: "DOCKER_CONTEXT" };
  const configFile = join(configDir, "config.json");
  if (!existsSync(configFile)) return undefined;
  const name = readJson<{ currentContext?: string }>(configFile).currentContext;
  return name && name !== "default" ? { name, from: `currentContext in ${configFile}` } : undefined;
}

function contextEndpoint(configDir: string, name: string, from: string): EngineEndpoint {
  const digest = createHash("sha256").update(name).digest("hex");
  const metaFile = join(configDir, "contexts", "meta", digest, "meta.json");
  if (!existsSync(metaFile))
    throw new Error(
      `the docker context "${name}" (${from}) does not exist: ${metaFile} is missing (docker context ls lists the contexts)`,
    );
  const docker = readJson<ContextMeta>(metaFile).Endpoints?.docker;
  if (!docker?.Host)
    throw new Error(`the docker context "${name}" (${metaFile}) has no docker endpoint host`);
  const tls = docker.SkipTLSVerify
    ? undefined
    : tlsFilesIn(join(configDir, "contexts", "tls", digest, "docker"));
  return { host: docker.Host, source: `the docker context "${name}" (${from})`, ...(tls ? { tls } : {}) };
}

/** The engine of the environment: DOCKER_HOST, else the current docker context, else the local socket. */
export function environmentEngine(env: NodeJS.ProcessEnv): EngineEndpoint {
  const configDir = dockerConfigDir(env);
  if (env.DOCKER_HOST) {
    // The CLI's convention for a TLS DOCKER_HOST: DOCKER_TLS_VERIFY=1 and the files in DOCKER_CERT_PATH.
    const tls = env.DOCKER_TLS_VERIFY ? tlsFilesIn(env.DOCKER_CERT_PATH || configDir) : undefined;
    return { host: env.DOCKER_HOST, source: "DOCKER_HOST", ...(tls ? { tls } : {}) };
  }
  const context = currentContext(env, configDir);
  if (context) return contextEndpoint(configDir, context.name, context.from);
  return { host: DEFAULT_DOCKER_HOST, source: "the default (no DOCKER_HOST, no docker context)" };
}
