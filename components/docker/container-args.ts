// A ContainerSpec (../containers/container-spec.ts) → the arguments of a docker.Container.
// Pure: every value comes from the spec or from the inputs handed in (image, network and
// volume names, secret outputs). What is Docker-provider specific lives here: units (MiB,
// CPU as text), files uploaded into volumes by a never-started companion container, waiting
// for health or for a one-shot container's exit.
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { ContainerFile, ContainerSpec } from "../containers/container-spec";
import type { CommandArg, NetworkName } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";

const MiB = 1024 ** 2;

export interface ContainerInputs {
  spec: ContainerSpec;
  stack: string;
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
export function fileFolders(spec: ContainerSpec): string[] {
  return [...new Set(spec.files.map((file) => file.path.slice(0, file.path.lastIndexOf("/"))))].sort();
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
  file: ContainerFile,
  spec: ContainerSpec,
  secrets: SecretValues,
): docker.types.input.ContainerUpload {
  const owner = {
    permissions: `0${file.mode.toString(8)}`,
    owner: String(file.uid),
    group: String(file.gid),
  };
  if (!("secret" in file.source)) return { file: file.path, content: file.source.content, ...owner };
  const content = secrets[file.source.secret];
  if (!content) throw new Error(`${spec.name} needs secret ${file.source.secret}, which was not resolved`);
  return { file: file.path, content, ...owner };
}

function fileVolumeMounts(inputs: ContainerInputs, readOnly: boolean): docker.types.input.ContainerVolume[] {
  return fileFolders(inputs.spec).map((folder) => {
    const volumeName = inputs.fileVolumes[folder];
    if (!volumeName) throw new Error(`${inputs.spec.name}: no volume for ${folder}`);
    return { volumeName, containerPath: folder, readOnly };
  });
}

/** Name of the container that holds an instance's files. */
export const filesContainerName = (spec: ContainerSpec) => `${spec.name}-files`;

/**
 * The never-started container whose only job is to receive an instance's files (secrets
 * mode 0400 and config 0444, owned by the workload's user) into the volumes the workload
 * mounts read-only. No process ever runs in it: no network, no capabilities, no logs.
 */
export function filesContainerArgs(inputs: ContainerInputs): docker.ContainerArgs {
  const { spec } = inputs;
  return {
    name: filesContainerName(spec),
    image: inputs.image,
    entrypoints: ["/nonexistent"],
    start: false,
    mustRun: false,
    restart: "no",
    networkMode: "none",
    user: spec.user,
    capabilities: { drops: ["ALL"], adds: [] },
    securityOpts: ["no-new-privileges:true"],
    privileged: false,
    logDriver: "none",
    volumes: fileVolumeMounts(inputs, false),
    uploads: spec.files.map((file) => upload(file, spec, inputs.secrets)),
    labels: [
      { label: "chatapi.stack", value: inputs.stack },
      { label: "chatapi.role", value: "files" },
      { label: "chatapi.files-for", value: spec.name },
    ],
  };
}

export function containerArgs(inputs: ContainerInputs): docker.ContainerArgs {
  const { spec } = inputs;
  const health = spec.health;
  const networksAdvanced = spec.networks.map(({ network, aliases }) => {
    const name = inputs.networks[network];
    if (!name) throw new Error(`${spec.name}: network ${network} was not created`);
    return { name, aliases };
  });
  const volumes: docker.types.input.ContainerVolume[] = spec.volumes.map((mount) => {
    const volume = inputs.volumes[mount.volume];
    if (!volume) throw new Error(`${spec.name}: volume ${mount.volume} was not created`);
    return volume.bind
      ? { hostPath: volume.source, containerPath: mount.path, readOnly: mount.readOnly }
      : { volumeName: volume.source, containerPath: mount.path, readOnly: mount.readOnly };
  });
  volumes.push(...fileVolumeMounts(inputs, true));
  const labels = { ...spec.labels, ...inputs.labels };

  return {
    name: spec.name,
    hostname: spec.service,
    image: inputs.image,
    ...(spec.entrypoint ? { entrypoints: spec.entrypoint } : {}),
    command: commandArgs(spec.command, inputs.generated),
    envs: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    user: spec.user,
    readOnly: spec.readOnly,
    capabilities: { drops: spec.capDrop, adds: spec.capAdd },
    securityOpts: spec.securityOpt,
    privileged: false,
    init: spec.init,
    tmpfs: spec.tmpfs,
    memory: Math.round(spec.memory.limitBytes / MiB),
    memoryReservation: Math.round(spec.memory.reservationBytes / MiB),
    memorySwap: Math.round(spec.memory.swapBytes / MiB),
    cpus: String(spec.cpus),
    cpuShares: spec.cpuShares,
    restart: spec.restart,
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
      : { healthcheck: { tests: ["NONE"] } }),
    // One-shot jobs: wait for the end; the exit code is checked by the component.
    ...(spec.kind === "job" ? { attach: true, mustRun: false, logs: false } : { mustRun: true }),
    networksAdvanced,
    ports: spec.ports.map((port) => ({
      internal: port.containerPort,
      external: port.published.hostPort,
      ip: port.published.hostAddress,
      protocol: port.protocol,
    })),
    volumes,
    logDriver: spec.log.driver,
    logOpts: spec.log.options,
    labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
    stopTimeout: spec.stopGraceSeconds,
    destroyGraceSeconds: spec.stopGraceSeconds,
  };
}
