// Resource names (chatapi-<stack>-<role>[-<n>]) and the instances a replicated workload
// becomes on hosts without an orchestrator (Docker containers, compose services).
import type { NetworkName, Role, WorkloadPlan } from "./types";

export const PROJECT = "chatapi";

export const stackPrefix = (stack: string) => `${PROJECT}-${stack}`;

export function resourceName(prefix: string, role: string, index?: number): string {
  return index === undefined ? `${prefix}-${role}` : `${prefix}-${role}-${index}`;
}

/** Roles that run as numbered instances (api-1, api-2, ...) on a Docker host. */
const numberedRoles: ReadonlySet<Role> = new Set<Role>(["api", "worker", "redis-cluster"]);

export interface InstancePlan {
  /** Container / compose service name: chatapi-<stack>-<role>[-<n>]. */
  name: string;
  /** Short name, also the container's host name: <role>[-<n>]. */
  shortName: string;
  index?: number;
  /** Network aliases of this instance: the workload's aliases, its short name and that name without the release. */
  aliases: Partial<Record<NetworkName, string[]>>;
  /** Per-instance environment (the instance name for processes that report it). */
  env: Record<string, string>;
}

/**
 * The containers a workload becomes on a Docker host. With a release id (the app's workloads,
 * see ../containers/release.ts) each name carries it: <role>-<release>[-<n>], so a new
 * release's containers start beside the old ones.
 */
export function dockerInstances(workload: WorkloadPlan, release?: string): InstancePlan[] {
  const numbered = numberedRoles.has(workload.role);
  const count = workload.kind === "service" ? workload.replicas : 1;
  const base = release === undefined ? workload.role : `${workload.role}-${release}`;
  return Array.from({ length: count }, (_, i) => {
    const index = numbered ? i + 1 : undefined;
    const shortName = index === undefined ? base : `${base}-${index}`;
    // A release's instance also answers to its name without the release (api-1): Prometheus's
    // file_sd targets name instances so, whichever release runs them.
    const stable = index === undefined ? workload.role : `${workload.role}-${index}`;
    const aliases: Partial<Record<NetworkName, string[]>> = {};
    for (const attachment of workload.networks) {
      aliases[attachment.network] = [...new Set([...attachment.aliases, shortName, stable])];
    }
    return {
      name: `${workload.name.slice(0, -workload.role.length)}${shortName}`,
      shortName,
      ...(index === undefined ? {} : { index }),
      aliases,
      env: workload.instanceEnv ? { [workload.instanceEnv]: shortName } : {},
    };
  });
}
