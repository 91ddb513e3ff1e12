// The Docker target's plan as a docker-compose file, for hosts driven without Pulumi (the local
// stack, or a production Docker host). Pure: the same plan and the same per-instance names and
// aliases (dockerInstances) as components/docker/container-args.ts, field for field; what
// differs is only how files reach a container (see MountedFile). Secret values never appear
// here: the file names them, and the caller writes their contents (../../scripts/lib/compose-files.ts).
import { dockerInstances, type InstancePlan } from "../plan/names";
import type {
  CommandArg,
  DeploymentPlan,
  FilePlan,
  GeneratedValueName,
  Role,
  VolumePlan,
  WorkloadPlan,
} from "../plan/types";
import type {
  ComposeFile,
  ComposeNetwork,
  ComposeService,
  ComposeServiceSecret,
  ComposeVolume,
} from "./compose-file";

export interface ComposeRenderInput {
  plan: DeploymentPlan;
  /** Deploy-time values (the admin client id), chosen once by the caller and kept. */
  generated: Record<GeneratedValueName, string>;
  /**
   * A version of each workload's files (e.g. a keyed digest of their contents), written as
   * the label chatapi.files: docker-compose re-creates a container when its configuration
   * changes, not when a file it mounts does, so a new secret or nginx.conf changes the label.
   */
  filesVersion?: Partial<Record<Role, string>>;
}

/**
 * A file a container reads. The Pulumi target uploads it into a volume that a never-started
 * companion container fills; compose bind-mounts it read-only from the folder beside the
 * compose file instead (secrets through the `secrets:` section). Either way the process sees
 * the same path, owner and mode.
 */
export interface MountedFile {
  role: Role;
  /** Relative to the compose file's folder: files/<role>/<container path>. */
  hostPath: string;
  containerPath: string;
  source: FilePlan["source"];
  /** 0o400 for secrets, 0o444 for plain configuration. */
  mode: number;
  uid: number;
  gid: number;
}

export interface RenderedCompose {
  /** docker-compose -p <projectName>: chatapi-<stack>. */
  projectName: string;
  compose: ComposeFile;
  files: MountedFile[];
}

export const FILES_DIR = "files";

const seconds = (value: number) => `${value}s`;

/** Compose interpolates `$NAME` in every string; `$$` is a literal dollar sign. */
function escapeDollars<T>(value: T): T {
  if (typeof value === "string") return value.replace(/\$/g, "$$$$") as T;
  if (Array.isArray(value)) return value.map(escapeDollars) as T;
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDollars(v)])) as T;
  return value;
}

function ids(user: string): { uid: number; gid: number } {
  const [uid, gid] = user.split(":").map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(`user "${user}" is not numeric uid:gid`);
  return { uid: uid!, gid: gid! };
}

export function mountedFiles(workload: WorkloadPlan): MountedFile[] {
  const { uid, gid } = ids(workload.security.user);
  return workload.files.map((file) => ({
    role: workload.role,
    hostPath: `${FILES_DIR}/${workload.role}${file.path}`,
    containerPath: file.path,
    source: file.source,
    mode: "secret" in file.source ? 0o400 : 0o444,
    uid,
    gid,
  }));
}

/** Key of a workload's secret file in the top-level `secrets:` section. */
const secretKey = (role: Role, name: string) => `${role}-${name}`;

function commandArgs(args: CommandArg[], generated: Record<GeneratedValueName, string>): string[] {
  return args.map((arg) => (typeof arg === "string" ? arg : generated[arg.generated]));
}

/** Volume key in the compose file and the Docker volume it names. */
function volumeFor(volume: VolumePlan, instance: InstancePlan): { key: string; name: string } {
  return volume.perInstance
    ? { key: `${volume.name}-${instance.shortName}`, name: `${volume.resourceName}-${instance.shortName}` }
    : { key: volume.name, name: volume.resourceName };
}

function serviceFor(
  input: ComposeRenderInput,
  workload: WorkloadPlan,
  instance: InstancePlan,
  servicesOf: (role: Role) => string[],
): ComposeService {
  const { plan } = input;
  const env: Record<string, string> = { ...workload.env, ...instance.env };
  for (const file of workload.files) if (file.env) env[file.env] = file.path;
  const command =
    workload.kind === "scheduled" && workload.schedule ? workload.schedule.daemonCommand : workload.command;
  const memory = workload.resources.memory;

  const volumes: string[] = [];
  for (const mount of workload.mounts) {
    const volume = plan.volumes.find((v) => v.name === mount.volume);
    if (!volume) throw new Error(`${workload.name}: volume ${mount.volume} is not in the plan`);
    const source = volume.hostPath ?? volumeFor(volume, instance).key;
    volumes.push(`${source}:${mount.path}:${mount.readOnly ? "ro" : "rw"}`);
  }
  const secrets: ComposeServiceSecret[] = [];
  for (const file of mountedFiles(workload)) {
    if ("secret" in file.source) {
      secrets.push({ source: secretKey(workload.role, file.source.secret), target: file.containerPath });
    } else {
      volumes.push(`./${file.hostPath}:${file.containerPath}:ro`);
    }
  }

  const dependsOn: ComposeService["depends_on"] = {};
  for (const dependency of workload.dependsOn) {
    const condition =
      dependency.condition === "healthy" ? "service_healthy" : "service_completed_successfully";
    for (const service of servicesOf(dependency.role)) dependsOn[service] = { condition };
  }
  const published = workload.ports.filter((port) => port.published);
  const filesVersion = input.filesVersion?.[workload.role];
  const health = workload.health;

  return {
    container_name: instance.name,
    hostname: instance.shortName,
    image: plan.images[workload.image].ref,
    ...(workload.entrypoint ? { entrypoint: workload.entrypoint } : {}),
    command: commandArgs(command, input.generated),
    environment: Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b))),
    user: workload.security.user,
    read_only: workload.security.readOnlyRootFilesystem,
    cap_drop: workload.security.dropCapabilities,
    ...(workload.security.addCapabilities.length > 0 ? { cap_add: workload.security.addCapabilities } : {}),
    security_opt: workload.security.noNewPrivileges ? ["no-new-privileges:true"] : [],
    privileged: false,
    init: workload.init,
    tmpfs: workload.tmpfs.map((t) => `${t.path}:rw,noexec,nosuid,nodev,size=${t.sizeBytes}`),
    mem_limit: memory.limitBytes,
    mem_reservation: memory.requestBytes,
    // Equal to the memory limit: no swap on top of it.
    memswap_limit: memory.limitBytes,
    cpus: workload.resources.cpu.limitMillis / 1000,
    cpu_shares: Math.max(2, Math.round((workload.resources.cpu.requestMillis / 1000) * 1024)),
    pids_limit: workload.resources.pidsLimit,
    restart: workload.restart,
    // Without a check of its own, the image's HEALTHCHECK (HTTP on PORT, for `serve`) would
    // call a one-shot or scheduled container unhealthy: switched off, as the Docker target does.
    healthcheck: health
      ? {
          test: ["CMD", ...health.command],
          interval: seconds(health.intervalSeconds),
          timeout: seconds(health.timeoutSeconds),
          retries: health.retries,
          start_period: seconds(health.startPeriodSeconds),
        }
      : { disable: true },
    networks: Object.fromEntries(
      workload.networks.map((attachment) => [
        attachment.network,
        { aliases: instance.aliases[attachment.network] ?? [] },
      ]),
    ),
    ...(published.length > 0
      ? {
          ports: published.map(
            (port) =>
              `${port.published!.hostAddress}:${port.published!.hostPort}:${port.containerPort}/${port.protocol}`,
          ),
        }
      : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(Object.keys(dependsOn).length > 0 ? { depends_on: dependsOn } : {}),
    logging: {
      driver: plan.docker.log.driver,
      options: { "max-size": plan.docker.log.maxSize, "max-file": String(plan.docker.log.maxFiles) },
    },
    stop_grace_period: seconds(workload.stopGracePeriodSeconds),
    labels: {
      ...workload.labels,
      "app.kubernetes.io/managed-by": "docker-compose",
      "chatapi.stack": plan.stack,
      "chatapi.role": workload.role,
      ...(filesVersion ? { "chatapi.files": filesVersion } : {}),
    },
  };
}

export function renderCompose(input: ComposeRenderInput): RenderedCompose {
  const { plan } = input;
  if (plan.target !== "docker") throw new Error(`stack ${plan.stack} targets ${plan.target}, not docker`);
  const instances = new Map(plan.workloads.map((w) => [w.role, dockerInstances(w)]));
  // Service names are the instances' short names (api-1, postgres, ...), unique in a stack.
  const servicesOf = (role: Role) => (instances.get(role) ?? []).map((i) => i.shortName);

  const services: Record<string, ComposeService> = {};
  for (const workload of plan.workloads) {
    for (const instance of instances.get(workload.role) ?? []) {
      services[instance.shortName] = escapeDollars(serviceFor(input, workload, instance, servicesOf));
    }
  }

  const networks: Record<string, ComposeNetwork> = {};
  for (const network of plan.networks) {
    networks[network.name] = {
      name: network.resourceName,
      driver: "bridge",
      internal: network.internal,
      ...(network.isolatedFromHost
        ? { driver_opts: { "com.docker.network.bridge.inhibit_ipv4": "true" } }
        : {}),
      labels: { "chatapi.stack": plan.stack, "chatapi.purpose": network.purpose },
    };
  }

  const volumes: Record<string, ComposeVolume> = {};
  for (const workload of plan.workloads) {
    for (const mount of workload.mounts) {
      const volume = plan.volumes.find((v) => v.name === mount.volume);
      if (!volume || volume.hostPath) continue;
      for (const instance of instances.get(workload.role) ?? []) {
        const { key, name } = volumeFor(volume, instance);
        volumes[key] = { name, labels: { "chatapi.stack": plan.stack, "chatapi.purpose": volume.purpose } };
      }
    }
  }

  const files = plan.workloads.flatMap(mountedFiles);
  const secrets: Record<string, { file: string }> = {};
  for (const file of files) {
    if ("secret" in file.source)
      secrets[secretKey(file.role, file.source.secret)] = { file: `./${file.hostPath}` };
  }

  return {
    projectName: plan.prefix,
    files,
    compose: {
      services,
      networks,
      ...(Object.keys(volumes).length > 0 ? { volumes } : {}),
      ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
      "x-chatapi": { stack: plan.stack, projectName: plan.prefix, urls: plan.urls },
    },
  };
}
