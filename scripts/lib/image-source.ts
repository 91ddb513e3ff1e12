// Where a local stack's images come from. By default the official ones (postgres, redis,
// rabbitmq, nginx-unprivileged, and node for the app image) from their registry. The offline
// preset (chatapi-local/*, built from Debian packages by scripts/images) when asked for
// (--offline, or images.preset in the stack), or when an image is not on the engine yet and its
// registry does not answer a short probe: machines without registry access, like CI here.
import type { DeploymentPlan } from "../../components/plan/types";
import { parseImageReference } from "../../components/config/image-ref";
import { run } from "../../toolbox/exec";

export const PROBE_TIMEOUT_MS = 5_000;

/** The registry API host of an image: Docker Hub's is registry-1.docker.io. */
export function registryHost(ref: string): string {
  const parsed = parseImageReference(ref);
  const registry = "error" in parsed ? undefined : parsed.registry;
  return !registry || registry === "docker.io" || registry === "index.docker.io"
    ? "registry-1.docker.io"
    : registry;
}

/** Every image the stack pulls, and the app image's base images (its build pulls them). */
export function upstreamImages(plan: DeploymentPlan): string[] {
  const refs = Object.values(plan.images).flatMap((image) =>
    image.build ? Object.values(image.build.args) : image.pull ? [image.ref] : [],
  );
  return [...new Set(refs)].sort();
}

/** Does the registry answer (any HTTP status: 401 is Docker Hub's answer without a token)? */
export async function probeRegistry(host: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | undefined> {
  try {
    await fetch(`https://${host}/v2/`, { method: "GET", signal: AbortSignal.timeout(timeoutMs) });
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if ((error as Error).name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
    return cause?.code ?? cause?.message ?? (error as Error).message;
  }
}

const onEngine = async (ref: string) =>
  (await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { reject: false })).exitCode === 0;

export interface ImageSourceChoice {
  offline: boolean;
  reason: string;
}

/**
 * Upstream or offline, for a stack whose file does not choose (plan: built with the upstream
 * preset). Images already on the engine need no registry; for the others, one probe per registry.
 */
export async function chooseImageSource(
  plan: DeploymentPlan,
  check: {
    probe: (host: string) => Promise<string | undefined>;
    present: (ref: string) => Promise<boolean>;
  } = { probe: probeRegistry, present: onEngine },
): Promise<ImageSourceChoice> {
  const missing: string[] = [];
  for (const ref of upstreamImages(plan)) if (!(await check.present(ref))) missing.push(ref);
  if (missing.length === 0) return { offline: false, reason: "upstream images, all on the engine already" };
  for (const host of [...new Set(missing.map(registryHost))]) {
    const problem = await check.probe(host);
    if (problem)
      return {
        offline: true,
        reason: `${host} cannot be reached (${problem}) and ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not on the engine: using the offline images (chatapi-local/*, built by scripts/images); --offline skips this check`,
      };
  }
  return { offline: false, reason: `upstream images (${missing.length} to pull from their registry)` };
}
