// Resource names (chatapi-<stack>-<role>[-<n>]) and the instances a replicated workload
// becomes on hosts without an orchestrator (Docker containers, compose services).
import type { NetworkName, Role, WorkloadPlan } from "./types";

export const PROJECT = "chatapi";

export const stackPrefix = (stack: string) => `${PROJECT}-${stack}`;

export function resourceName(prefix: string, role: string, index?: number): string {
  return index === undefined ? `${prefix}-${role}` : `${prefix}-${role}-${index}`;
}

/** Roles that run as numbered instances (api-1, api-2, ...) on a Docker host. */
const numberedRoles: ReadonlySet<Role> = new Set<Role>(["api", "worker"]);

export interface InstancePlan {
  /** Container / compose service name: chatapi-<stack>-<role>[-<n>]. */
  name: string;
  /** Short name, also the container's host name: <role>[-<n>]. */
  shortName: string;
  index?: number;
  /** Network aliases of this instance: the workload's aliases plus its short name. */
  aliases: Partial<Record<NetworkName, string[]>>;
  /** Per-instance environment (the instance name for processes that report it). */
  env: Record<string, string>;
}

export function dockerInstances(workload: WorkloadPlan): InstancePlan[] {
  const numbered = numberedRoles.has(workload.role);
  const count = workload.kind === "service" ? workload.replicas : 1;
  return Array.from({ length: count }, (_, i) => {
    const index = numbered ? i + 1 : undefined;
    const shortName = index === undefined ? workload.role : `${workload.role}-${index}`;
    const aliases: Partial<Record<NetworkName, string[]>> = {};
    for (const attachment of workload.networks) {
      aliases[attachment.network] = [...new Set([...attachment.aliases, shortName])];
    }
    return {
      name: index === undefined ? workload.name : `${workload.name}-${index}`,
      shortName,
      ...(index === undefined ? {} : { index }),
      aliases,
      env: workload.instanceEnv ? { [workload.instanceEnv]: shortName } : {},
    };
  });
}
