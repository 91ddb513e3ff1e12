// Pieces every workload shares: resources from config, labels, the hardened defaults.
import { cpuMillis, memoryBytes } from "../../config/quantity";
import type { ResourceSettings, SecretConfigKey, StackSettings } from "../../config/types";
import { resourceName } from "../names";
import { secretPath } from "../secrets";
import type {
  FilePlan,
  ResourcesPlan,
  Role,
  SecretName,
  SecurityPlan,
  TmpfsPlan,
  WorkloadPlan,
} from "../types";

export interface PlanContext {
  settings: StackSettings;
  stack: string;
  prefix: string;
  appVersion: string;
  /** Secret config keys that were set (names only). */
  provided: ReadonlySet<SecretConfigKey>;
}

export const MiB = 1024 ** 2;

export function resourcesFrom(r: ResourceSettings): ResourcesPlan {
  return {
    cpu: { requestMillis: cpuMillis(r.cpu.request), limitMillis: cpuMillis(r.cpu.limit) },
    memory: { requestBytes: memoryBytes(r.memory.request), limitBytes: memoryBytes(r.memory.limit) },
    pidsLimit: r.pidsLimit,
  };
}

/**
 * Non-root, read-only root filesystem, every capability dropped, no privilege escalation.
 * No workload adds a capability back: each starts directly as its non-root user (the data
 * stores' images support `--user 999:999`), so none needs CHOWN/SETUID/SETGID to drop root.
 */
export function hardened(user: string, readOnlyRootFilesystem = true): SecurityPlan {
  return {
    user,
    readOnlyRootFilesystem,
    dropCapabilities: ["ALL"],
    addCapabilities: [],
    noNewPrivileges: true,
  };
}

export const tmpfs = (path: string, mib: number): TmpfsPlan => ({ path, sizeBytes: mib * MiB });

export function secretFile(name: SecretName, env?: string): FilePlan {
  return { path: secretPath(name), source: { secret: name }, ...(env ? { env } : {}) };
}

export function labels(ctx: PlanContext, role: Role, version: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "chatapi",
    "app.kubernetes.io/instance": ctx.stack,
    "app.kubernetes.io/component": role,
    "app.kubernetes.io/part-of": "chatapi",
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/version": version,
  };
}

/** The tag of an image reference, for the version label. */
export function tagOf(ref: string): string {
  const match = /:([\w][\w.-]*)(@.*)?$/.exec(ref.replace(/^[^/]*:[0-9]+\//, ""));
  return match?.[1] ?? "pinned-by-digest";
}

type WorkloadFields = Omit<
  WorkloadPlan,
  | "name"
  | "labels"
  | "networks"
  | "restart"
  | "tmpfs"
  | "mounts"
  | "ports"
  | "files"
  | "dependsOn"
  | "env"
  | "replicas"
  | "init"
> &
  Partial<
    Pick<
      WorkloadPlan,
      "restart" | "tmpfs" | "mounts" | "ports" | "files" | "dependsOn" | "env" | "replicas" | "init"
    >
  >;

/** A workload with the defaults filled in; networks are attached later from the flows. */
export function workload(ctx: PlanContext, version: string, fields: WorkloadFields): WorkloadPlan {
  return {
    name: resourceName(ctx.prefix, fields.role),
    labels: labels(ctx, fields.role, version),
    networks: [],
    replicas: 1,
    restart: fields.kind === "service" || fields.kind === "scheduled" ? "unless-stopped" : "no",
    tmpfs: [],
    mounts: [],
    ports: [],
    files: [],
    dependsOn: [],
    env: {},
    init: false,
    ...fields,
  };
}
