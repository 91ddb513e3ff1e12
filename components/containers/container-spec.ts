// plan → ContainerSpec[]: every container a Docker host runs for a stack, described once, as
// plain data. The Pulumi Docker target (../docker/container-args.ts) and the compose renderer
// (../compose/render-compose.ts) are two small mappings of these specs: what a container is
// (its instances, command, environment, files with owner and mode, limits, health check,
// networks and aliases, volumes, start order, labels) is decided here, once; the mappings only
// say how each tool writes it (and how files reach the container: uploads or bind mounts).
import { dockerInstances, type InstancePlan } from "../plan/names";
import { RELEASE_LABEL, gateTimeoutSeconds, isReleaseWorkload, releaseHealth } from "./release";
import type {
  CommandArg,
  DeploymentPlan,
  FilePlan,
  HealthCheckPlan,
  ImageKey,
  NetworkName,
  PortPlan,
  Role,
  VolumePlan,
  WorkloadKind,
  WorkloadPlan,
} from "../plan/types";

/** A file the process reads: secrets 0400, plain configuration 0444, owned by its user. */
export interface ContainerFile {
  path: string;
  source: FilePlan["source"];
  mode: 0o400 | 0o444;
  uid: number;
  gid: number;
}

/** A data volume (named, or a host folder) mounted into the container. */
export interface ContainerVolume {
  /** The plan's volume (VolumePlan.name). */
  volume: string;
  /** Key in a compose file's `volumes:` (per-instance volumes: <name>-<instance>). */
  key: string;
  /** The Docker volume's name. */
  name: string;
  hostPath?: string;
  perInstance: boolean;
  purpose: string;
  path: string;
  readOnly: boolean;
  /** Filled by the release switch before the container starts (compose: an external volume). */
  writtenByDeploy: boolean;
}

export interface ContainerSpec {
  role: Role;
  kind: WorkloadKind;
  /** chatapi-<stack>-<role>[-<release>][-<n>] */
  name: string;
  /** <role>[-<release>][-<n>]: the compose service and the host name. */
  service: string;
  /** The release this container belongs to (the app's containers); undefined for the stack's own. */
  release?: string;
  image: ImageKey;
  entrypoint?: string[];
  command: CommandArg[];
  /** Sorted by name; secrets are files, which *_FILE variables point at. */
  env: Record<string, string>;
  files: ContainerFile[];
  user: string;
  readOnly: boolean;
  capDrop: string[];
  capAdd: string[];
  securityOpt: string[];
  init: boolean;
  /** Mount path → options. */
  tmpfs: Record<string, string>;
  memory: { limitBytes: number; reservationBytes: number; swapBytes: number };
  cpus: number;
  cpuShares: number;
  pidsLimit: number;
  restart: WorkloadPlan["restart"];
  /**
   * undefined: the image's HEALTHCHECK is switched off (it would call a one-shot container
   * unhealthy). A release's services use their readiness check: "healthy" is the release gate.
   */
  health?: HealthCheckPlan;
  /** With a health check: how long the container may take to become healthy (a release's: its gate). */
  readyTimeoutSeconds?: number;
  networks: { network: NetworkName; aliases: string[] }[];
  /** In the host's network namespace (the firewall container): no networks, no host name of its own. */
  hostNetwork: boolean;
  ports: (PortPlan & { published: NonNullable<PortPlan["published"]> })[];
  volumes: ContainerVolume[];
  log: { driver: string; options: Record<string, string> };
  stopGraceSeconds: number;
  labels: Record<string, string>;
  /**
   * Containers that must be healthy or have completed before this one starts. The stack's own
   * containers never wait for a release's: the release switch does (./release.ts).
   */
  dependsOn: { service: string; container: string; condition: "healthy" | "completed" }[];
}

function ids(user: string): { uid: number; gid: number } {
  const [uid, gid] = user.split(":").map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(`user "${user}" is not numeric uid:gid`);
  return { uid: uid!, gid: gid! };
}

/** A workload's files (the same in each of its containers). */
export function containerFiles(workload: WorkloadPlan): ContainerFile[] {
  const { uid, gid } = ids(workload.security.user);
  return workload.files.map((file) => ({
    path: file.path,
    source: file.source,
    mode: "secret" in file.source ? 0o400 : 0o444,
    uid,
    gid,
  }));
}

/** Compose key and Docker name of a volume as one instance mounts it. */
export function volumeFor(volume: VolumePlan, instance: InstancePlan): { key: string; name: string } {
  return volume.perInstance
    ? { key: `${volume.name}-${instance.shortName}`, name: `${volume.resourceName}-${instance.shortName}` }
    : { key: volume.name, name: volume.resourceName };
}

function healthOf(
  plan: DeploymentPlan,
  workload: WorkloadPlan,
  inRelease: boolean,
): Pick<ContainerSpec, "health" | "readyTimeoutSeconds"> {
  const { health } = inRelease ? releaseHealth(workload) : { health: workload.health };
  if (!health) return {};
  const timeout =
    inRelease && workload.kind === "service"
      ? gateTimeoutSeconds(plan)
      : health.startPeriodSeconds + health.intervalSeconds * (health.retries + 1) + 60;
  return { health, readyTimeoutSeconds: timeout };
}

function specOf(
  plan: DeploymentPlan,
  workload: WorkloadPlan,
  instance: InstancePlan,
  release: string,
): ContainerSpec {
  const inRelease = isReleaseWorkload(workload);
  // Sidecars exist only where a pod shares processes (Kubernetes); the plan gives Docker none.
  if (workload.sidecars?.length)
    throw new Error(
      `${workload.name}: the Docker target cannot run sidecars (${workload.sidecars.map((s) => s.name).join(", ")})`,
    );
  const env: Record<string, string> = { ...workload.env, ...instance.env };
  for (const file of workload.files) if (file.env) env[file.env] = file.path;
  const { memory, cpu } = workload.resources;
  const volumes = workload.mounts.map((mount): ContainerVolume => {
    const volume = plan.volumes.find((v) => v.name === mount.volume);
    if (!volume) throw new Error(`${workload.name}: volume ${mount.volume} is not in the plan`);
    return {
      volume: volume.name,
      ...volumeFor(volume, instance),
      ...(volume.hostPath ? { hostPath: volume.hostPath } : {}),
      perInstance: volume.perInstance ?? false,
      purpose: volume.purpose,
      path: mount.path,
      readOnly: mount.readOnly,
      writtenByDeploy: volume.writtenByDeploy ?? false,
    };
  });
  const dependsOn = workload.dependsOn.flatMap((dependency) => {
    const needed = plan.workloads.find((w) => w.role === dependency.role);
    if (!needed) throw new Error(`${workload.role} depends on ${dependency.role}, which is not in the plan`);
    const neededInRelease = isReleaseWorkload(needed);
    if (neededInRelease && !inRelease) return [];
    return dockerInstances(needed, neededInRelease ? release : undefined).map((i) => ({
      service: i.shortName,
      container: i.name,
      condition: dependency.condition,
    }));
  });
  return {
    role: workload.role,
    kind: workload.kind,
    name: instance.name,
    service: instance.shortName,
    ...(inRelease ? { release } : {}),
    image: workload.image,
    ...(workload.entrypoint ? { entrypoint: workload.entrypoint } : {}),
    // A host without a scheduler runs the schedule in a long-running process of its own.
    command:
      workload.kind === "scheduled" && workload.schedule ? workload.schedule.daemonCommand : workload.command,
    env: Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b))),
    files: containerFiles(workload),
    user: workload.security.user,
    readOnly: workload.security.readOnlyRootFilesystem,
    capDrop: workload.security.dropCapabilities,
    capAdd: workload.security.addCapabilities,
    securityOpt: workload.security.noNewPrivileges ? ["no-new-privileges:true"] : [],
    init: workload.init,
    tmpfs: Object.fromEntries(
      workload.tmpfs.map((t) => [t.path, `rw,noexec,nosuid,nodev,size=${t.sizeBytes}`]),
    ),
    // Swap equal to the memory limit: no swap on top of it.
    memory: {
      limitBytes: memory.limitBytes,
      reservationBytes: memory.requestBytes,
      swapBytes: memory.limitBytes,
    },
    cpus: cpu.limitMillis / 1000,
    cpuShares: Math.max(2, Math.round((cpu.requestMillis / 1000) * 1024)),
    pidsLimit: workload.resources.pidsLimit,
    restart: workload.restart,
    ...healthOf(plan, workload, inRelease),
    networks: workload.networks.map((attachment) => ({
      network: attachment.network,
      aliases: instance.aliases[attachment.network] ?? [],
    })),
    hostNetwork: workload.hostNetwork ?? false,
    ports: workload.ports.flatMap((port) => (port.published ? [{ ...port, published: port.published }] : [])),
    volumes,
    log: {
      driver: plan.docker.log.driver,
      options: { "max-size": plan.docker.log.maxSize, "max-file": String(plan.docker.log.maxFiles) },
    },
    stopGraceSeconds: workload.stopGracePeriodSeconds,
    labels: {
      ...workload.labels,
      "chatapi.stack": plan.stack,
      "chatapi.role": workload.role,
      ...(inRelease ? { [RELEASE_LABEL]: release } : {}),
    },
    dependsOn,
  };
}

/**
 * Every container of a Docker stack with the app at `release` (./release.ts: the release's
 * containers carry its id in their names), in the plan's order (what each depends on first).
 */
export function containerSpecs(plan: DeploymentPlan, release: string): ContainerSpec[] {
  if (plan.target !== "docker") throw new Error(`stack ${plan.stack} targets ${plan.target}, not docker`);
  return plan.workloads.flatMap((workload) =>
    dockerInstances(workload, isReleaseWorkload(workload) ? release : undefined).map((instance) =>
      specOf(plan, workload, instance, release),
    ),
  );
}
