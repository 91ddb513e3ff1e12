// plan → ContainerSpec[]: every container a Docker host runs for a stack, described once, as
// plain data. The Pulumi Docker target (../docker/container-args.ts) and the compose renderer
// (../compose/render-compose.ts) are two small mappings of these specs: what a container is
// (its instances, command, environment, files with owner and mode, limits, health check,
// networks and aliases, volumes, start order, labels) is decided here, once; the mappings only
// say how each tool writes it (and how files reach the container: uploads or bind mounts).
import { dockerInstances, type InstancePlan } from "../plan/names";
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
}

export interface ContainerSpec {
  role: Role;
  kind: WorkloadKind;
  /** chatapi-<stack>-<role>[-<n>] */
  name: string;
  /** <role>[-<n>]: the compose service and the host name. */
  service: string;
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
  /** undefined: the image's HEALTHCHECK is switched off (it would call a one-shot container unhealthy). */
  health?: HealthCheckPlan;
  networks: { network: NetworkName; aliases: string[] }[];
  ports: (PortPlan & { published: NonNullable<PortPlan["published"]> })[];
  volumes: ContainerVolume[];
  log: { driver: string; options: Record<string, string> };
  stopGraceSeconds: number;
  labels: Record<string, string>;
  /** Containers that must be healthy or have completed before this one starts. */
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

function specOf(plan: DeploymentPlan, workload: WorkloadPlan, instance: InstancePlan): ContainerSpec {
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
    };
  });
  const dependsOn = workload.dependsOn.flatMap((dependency) => {
    const needed = plan.workloads.find((w) => w.role === dependency.role);
    if (!needed) throw new Error(`${workload.role} depends on ${dependency.role}, which is not in the plan`);
    return dockerInstances(needed).map((i) => ({
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
    ...(workload.health ? { health: workload.health } : {}),
    networks: workload.networks.map((attachment) => ({
      network: attachment.network,
      aliases: instance.aliases[attachment.network] ?? [],
    })),
    ports: workload.ports.flatMap((port) => (port.published ? [{ ...port, published: port.published }] : [])),
    volumes,
    log: {
      driver: plan.docker.log.driver,
      options: { "max-size": plan.docker.log.maxSize, "max-file": String(plan.docker.log.maxFiles) },
    },
    stopGraceSeconds: workload.stopGracePeriodSeconds,
    labels: { ...workload.labels, "chatapi.stack": plan.stack, "chatapi.role": workload.role },
    dependsOn,
  };
}

/** Every container of a Docker stack, in the plan's order (what each depends on comes first). */
export function containerSpecs(plan: DeploymentPlan): ContainerSpec[] {
  if (plan.target !== "docker") throw new Error(`stack ${plan.stack} targets ${plan.target}, not docker`);
  return plan.workloads.flatMap((workload) =>
    dockerInstances(workload).map((instance) => specOf(plan, workload, instance)),
  );
}
