// Which engine brings a local stack up: Pulumi (the toolkit's Docker target) when a pulumi CLI
// and every provider plugin the Docker target needs (docker, random, tls) are installed;
// otherwise the same plan rendered as a compose file and run with docker-compose.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../toolbox/exec";
import { cacheDir } from "./stack-dir";

export type EngineName = "pulumi" | "compose";

export interface EngineChoice {
  engine: EngineName;
  /** Why, in words a developer can act on. */
  reason: string;
  /** The pulumi binary and its environment (engine "pulumi"). */
  pulumi?: { bin: string; env: NodeJS.ProcessEnv };
}

/** Provider plugins the Docker target creates resources of. */
export const REQUIRED_PLUGINS = ["docker", "random", "tls"] as const;

async function onPath(command: string): Promise<string | undefined> {
  const result = await run("sh", ["-c", `command -v ${command}`], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** A pulumi on PATH, else the one scripts/pulumi-toolchain built (with its PULUMI_HOME). */
async function findPulumi(): Promise<{ bin: string; env: NodeJS.ProcessEnv } | undefined> {
  const bin = await onPath("pulumi");
  if (bin) return { bin, env: {} };
  const cache = cacheDir();
  if (!existsSync(cache)) return undefined;
  const built = readdirSync(cache)
    .filter((name) => /^pulumi-v[0-9.]+$/.test(name))
    .map((name) => join(cache, name, "bin", "pulumi"))
    .find((path) => existsSync(path));
  return built
    ? {
        bin: built,
        env: {
          PULUMI_HOME: join(cache, "pulumi-home"),
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        },
      }
    : undefined;
}

export async function chooseEngine(wanted: EngineName | "auto"): Promise<EngineChoice> {
  if (wanted === "compose") return { engine: "compose", reason: "asked for with --engine compose" };
  const pulumi = await findPulumi();
  const fallback = (reason: string): EngineChoice => {
    if (wanted === "pulumi") throw new Error(`--engine pulumi: ${reason}`);
    return { engine: "compose", reason };
  };
  if (!pulumi) return fallback("no pulumi CLI is installed");
  const listed = await run(pulumi.bin, ["plugin", "ls", "--json"], { env: pulumi.env, reject: false });
  let plugins: { name: string; kind: string; version?: string }[] = [];
  try {
    plugins = JSON.parse(listed.stdout || "[]") as typeof plugins;
  } catch {
    return fallback(`\`${pulumi.bin} plugin ls --json\` did not answer with JSON`);
  }
  const missing = REQUIRED_PLUGINS.filter(
    (name) => !plugins.some((p) => p.kind === "resource" && p.name === name),
  );
  if (missing.length > 0)
    return fallback(
      `the pulumi CLI (${pulumi.bin}) is installed, but not the provider plugin${missing.length > 1 ? "s" : ""} ` +
        `${missing.join(", ")} the Docker target needs (pulumi plugin install resource <name> <version>)`,
    );
  return {
    engine: "pulumi",
    reason: `pulumi CLI ${pulumi.bin} with the docker, random and tls plugins`,
    pulumi,
  };
}
