// One plan workload instance → the arguments of a docker.Container. Pure: every value comes
// from the plan or from the inputs handed in (image, network and volume names, secret
// outputs), so the mapping is tested directly and the compose renderer can follow it.
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { InstancePlan } from "../plan/names";
import type { CommandArg, DeploymentPlan, FilePlan, NetworkName, WorkloadPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";

const MiB = 1024 ** 2;

export interface ContainerInputs {
  plan: DeploymentPlan;
  workload: WorkloadPlan;
  instance: InstancePlan;
  image: pulumi.Input<string>;
  networks: Partial<Record<NetworkName, pulumi.Input<string>>>;
  /** Plan volume name → Docker volume name (or host path for bind mounts). */
  volumes: Record<string, { source: pulumi.Input<string>; bind: boolean }>;
  /** Folder in the container → Docker volume that holds its files. */
  fileVolumes: Record<string, pulumi.Input<string>>;
  secrets: SecretValues;
  generated: Partial<GeneratedValues>;
  /** Extra labels (e.g. what this container waited for). */
  labels?: Record<string, pulumi.Input<string>>;
}

/**
 * Folders that receive files. Docker refuses to copy files into a container whose root
 * filesystem is read-only (the docker provider extracts uploads at "/", which is not in a
 * volume), so each folder is a volume that a never-started "files" container fills
 * (filesContainerArgs) and the workload mounts read-only.
 */
export function fileFolders(workload: WorkloadPlan): string[] {
  return [...new Set(workload.files.map((file) => file.path.slice(0, file.path.lastIndexOf("/"))))].sort();
}

const seconds = (value: number) => `${value}s`;

function commandArgs(args: CommandArg[], generated: Partial<GeneratedValues>): pulumi.Input<string>[] {
  return args.map((arg) => {
    if (typeof arg === "string") return arg;
    const value = generated[arg.generated];
    if (!value) throw new Error(`generated value ${arg.generated} is not available`);
    return value;
  });
}

function upload(
  file: FilePlan,
  workload: WorkloadPlan,
  secrets: SecretValues,
): docker.types.input.ContainerUpload {
  const [owner, group] = workload.security.user.split(":");
  if ("secret" in file.source) {
    const content = secrets[file.source.secret];
    if (!content)
      throw new Error(`${workload.name} needs secret ${file.source.secret}, which was not resolved`);
    return { file: file.path, content, permissions: "0400", owner, group };
  }
  return { file: file.path, content: file.source.content, permissions: "0444", owner, group };
}

function fileVolumeMounts(inputs: ContainerInputs, readOnly: boolean): docker.types.input.ContainerVolume[] {
  return fileFolders(inputs.workload).map((folder) => {
    const volumeName = inputs.fileVolumes[folder];
    if (!volumeName) throw new Error(`${inputs.workload.name}: no volume for ${folder}`);
    return { volumeName, containerPath: folder, readOnly };
  });
}

/** Name of the container that holds an instance's files. */
export const filesContainerName = (instance: InstancePlan) => `${instance.name}-files`;

/**
 * The never-started container whose only job is to receive an instance's files (secrets
 * mode 0400 and config 0444, owned by the workload's user) into the volumes the workload
 * mounts read-only. No process ever runs in it: no network, no capabilities, no logs.
 */
export function filesContainerArgs(inputs: ContainerInputs): docker.ContainerArgs {
  const { plan, workload, instance } = inputs;
  return {
    name: filesContainerName(instance),
    image: inputs.image,
    entrypoints: ["/nonexistent"],
    start: false,
    mustRun: false,
    restart: "no",
    networkMode: "none",
    user: workload.security.user,
    capabilities: { drops: ["ALL"], adds: [] },
    securityOpts: ["no-new-privileges:true"],
    privileged: false,
    logDriver: "none",
    volumes: fileVolumeMounts(inputs, false),
    uploads: workload.files.map((file) => upload(file, workload, inputs.secrets)),
    labels: [
      { label: "chatapi.stack", value: plan.stack },
      { label: "chatapi.role", value: "files" },
      { label: "chatapi.files-for", value: instance.name },
    ],
  };
}

export function containerArgs(inputs: ContainerInputs): docker.ContainerArgs {
  const { plan, workload, instance } = inputs;
  // Sidecars exist only where a pod shares processes (Kubernetes); the plan gives Docker none.
  if (workload.sidecars?.length)
    throw new Error(
      `${workload.name}: the Docker target cannot run sidecars (${workload.sidecars.map((s) => s.name).join(", ")})`,
    );
  const job = workload.kind === "job";
  const env = { ...workload.env, ...instance.env };
  for (const file of workload.files) if (file.env) env[file.env] = file.path;
  const command =
    workload.kind === "scheduled" && workload.schedule ? workload.schedule.daemonCommand : workload.command;
  const health = workload.health;

  const networksAdvanced = workload.networks.map((attachment) => {
    const name = inputs.networks[attachment.network];
    if (!name) throw new Error(`${workload.name}: network ${attachment.network} was not created`);
    return { name, aliases: instance.aliases[attachment.network] ?? [] };
  });

  const volumes: docker.types.input.ContainerVolume[] = workload.mounts.map((mount) => {
    const volume = inputs.volumes[mount.volume];
    if (!volume) throw new Error(`${workload.name}: volume ${mount.volume} was not created`);
    return volume.bind
      ? { hostPath: volume.source, containerPath: mount.path, readOnly: mount.readOnly }
      : { volumeName: volume.source, containerPath: mount.path, readOnly: mount.readOnly };
  });
  volumes.push(...fileVolumeMounts(inputs, true));

  const labels = {
    ...workload.labels,
    "chatapi.stack": plan.stack,
    "chatapi.role": workload.role,
    ...inputs.labels,
  };

  return {
    name: instance.name,
    hostname: instance.shortName,
    image: inputs.image,
    ...(workload.entrypoint ? { entrypoints: workload.entrypoint } : {}),
    command: commandArgs(command, inputs.generated),
    envs: Object.entries(env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}=${value}`),
    user: workload.security.user,
    readOnly: workload.security.readOnlyRootFilesystem,
    capabilities: { drops: workload.security.dropCapabilities, adds: workload.security.addCapabilities },
    securityOpts: workload.security.noNewPrivileges ? ["no-new-privileges:true"] : [],
    privileged: false,
    init: workload.init,
    tmpfs: Object.fromEntries(
      workload.tmpfs.map((t) => [t.path, `rw,noexec,nosuid,nodev,size=${t.sizeBytes}`]),
    ),
    memory: Math.round(workload.resources.memory.limitBytes / MiB),
    memoryReservation: Math.round(workload.resources.memory.requestBytes / MiB),
    // Equal to the memory limit: no swap on top of it.
    memorySwap: Math.round(workload.resources.memory.limitBytes / MiB),
    cpus: String(workload.resources.cpu.limitMillis / 1000),
    cpuShares: Math.max(2, Math.round((workload.resources.cpu.requestMillis / 1000) * 1024)),
    restart: workload.restart,
    ...(health
      ? {
          healthcheck: {
            tests: ["CMD", ...health.command],
            interval: seconds(health.intervalSeconds),
            timeout: seconds(health.timeoutSeconds),
            retries: health.retries,
            startPeriod: seconds(health.startPeriodSeconds),
          },
          // Creation completes once the container is healthy: dependants start after that.
          wait: true,
          waitTimeout: health.startPeriodSeconds + health.intervalSeconds * (health.retries + 1) + 60,
        }
      : // No check of its own: the image's HEALTHCHECK (HTTP on PORT, for `serve`) would call a
        // one-shot or scheduled container unhealthy, so it is switched off.
        { healthcheck: { tests: ["NONE"] } }),
    // One-shot jobs: wait for the end; the exit code is checked by the component.
    ...(job ? { attach: true, mustRun: false, logs: false } : { mustRun: true }),
    networksAdvanced,
    ports: workload.ports
      .filter((port) => port.published)
      .map((port) => ({
        internal: port.containerPort,
        external: port.published!.hostPort,
        ip: port.published!.hostAddress,
        protocol: port.protocol,
      })),
    volumes,
    logDriver: plan.docker.log.driver,
    logOpts: { "max-size": plan.docker.log.maxSize, "max-file": String(plan.docker.log.maxFiles) },
    labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
    stopTimeout: workload.stopGracePeriodSeconds,
    destroyGraceSeconds: workload.stopGracePeriodSeconds,
  };
}
