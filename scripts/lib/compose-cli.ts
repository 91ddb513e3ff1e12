// Which Compose runs a local stack: `docker compose` (Compose v2+, the docker CLI plugin that
// Docker CE ships and scripts/setup builds where it is missing) when the docker CLI has it;
// `docker-compose` (Compose v1, end of life since 2023) only as a fallback. CHATAPI_COMPOSE=v2 or
// v1 insists on one (the tests run the local stack with each).
import { run } from "../../toolbox/exec";

export interface ComposeCli {
  /** The program and the arguments before Compose's own: docker + compose, or docker-compose. */
  file: string;
  prefix: string[];
  /** How a person types it. */
  command: string;
  version: string;
  generation: "v2" | "v1";
}

async function versionOf(file: string, args: string[]): Promise<string | undefined> {
  const result = await run(file, [...args, "version", "--short"], { reject: false }).catch(() => undefined);
  const version = result?.exitCode === 0 ? result.stdout.trim().replace(/^v/, "") : "";
  return /^\d+\.\d+/.test(version) ? version : undefined;
}

const v2 = async (): Promise<ComposeCli | undefined> => {
  const version = await versionOf("docker", ["compose"]);
  return version
    ? { file: "docker", prefix: ["compose"], command: "docker compose", version, generation: "v2" }
    : undefined;
};

const v1 = async (): Promise<ComposeCli | undefined> => {
  const version = await versionOf("docker-compose", []);
  return version
    ? { file: "docker-compose", prefix: [], command: "docker-compose", version, generation: "v1" }
    : undefined;
};

const INSTALL_V2 =
  "install the Docker Compose plugin (Docker CE: docker-compose-plugin; https://docs.docker.com/compose/install/), or run scripts/setup --for local with Go on PATH to build it";

/** The Compose to use, and a line saying which and why. */
export async function findCompose(
  wanted = process.env.CHATAPI_COMPOSE ?? "auto",
): Promise<{ compose: ComposeCli; reason: string }> {
  if (!["auto", "v2", "v1"].includes(wanted))
    throw new Error(`CHATAPI_COMPOSE must be v2, v1 or unset (auto), not "${wanted}"`);
  if (wanted !== "v1") {
    const found = await v2();
    if (found) return { compose: found, reason: `Compose v2+ (${found.command} version ${found.version})` };
    if (wanted === "v2")
      throw new Error(`CHATAPI_COMPOSE=v2, but \`docker compose\` does not answer: ${INSTALL_V2}`);
  }
  const fallback = await v1();
  if (fallback)
    return {
      compose: fallback,
      reason:
        wanted === "v1"
          ? `Compose v1 (docker-compose ${fallback.version}), as CHATAPI_COMPOSE=v1 asks`
          : `Compose v1 (docker-compose ${fallback.version}) as a fallback: \`docker compose\` (v2+) is missing; v1 is end of life: ${INSTALL_V2}`,
    };
  throw new Error(
    wanted === "v1"
      ? "CHATAPI_COMPOSE=v1, but docker-compose is not installed"
      : `no Compose found: ${INSTALL_V2}`,
  );
}
