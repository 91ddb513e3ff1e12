import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Tool and credential cache shared by every checkout on this machine (never inside one). */
export const cacheDir = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");

/** The repository root. */
export const repoRoot = resolve(__dirname, "..", "..");

/**
 * An environment without DOCKER_HOST and with an empty docker config folder (no contexts):
 * the Docker target's engine is then the local socket, whatever the machine running the tests has.
 */
export const noDockerEnvironment: NodeJS.ProcessEnv = { DOCKER_CONFIG: join(__dirname, "no-docker-config") };
