// The Docker target's plan as a docker-compose file, for hosts driven without Pulumi (the local
// stack, or a production Docker host). Pure: one service per ContainerSpec
// (../containers/container-spec.ts), the specs the Pulumi Docker target maps too; what differs
// is only how compose writes them and how files reach a container (see MountedFile). Secret
// values never appear here: the file names them, and the caller writes their contents
// (../../scripts/lib/compose-files.ts).
import {
  type ContainerFile,
  type ContainerSpec,
  containerFiles,
  containerSpecs,
} from "../containers/container-spec";
import type {
  CommandArg,
  DeploymentPlan,
  FilePlan,
  GeneratedValueName,
  Role,
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

const mountedFile = (role: Role, file: ContainerFile): MountedFile => ({
  role,
  hostPath: `${FILES_DIR}/${role}${file.path}`,
  containerPath: file.path,
  source: file.source,
  mode: file.mode,
  uid: file.uid,
  gid: file.gid,
});

export const mountedFiles = (workload: WorkloadPlan): MountedFile[] =>
  containerFiles(workload).map((file) => mountedFile(workload.role, file));

/** Key of a workload's secret file in the top-level `secrets:` section. */
const secretKey = (role: Role, name: string) => `${role}-${name}`;

function commandArgs(args: CommandArg[], generated: Record<GeneratedValueName, string>): string[] {
  return args.map((arg) => (typeof arg === "string" ? arg : generated[arg.generated]));
}

const dependencyCondition = {
  healthy: "service_healthy",
  completed: "service_completed_successfully",
} as const;

function serviceFor(input: ComposeRenderInput, spec: ContainerSpec): ComposeService {
  const volumes = spec.volumes.map(
    (mount) => `${mount.hostPath ?? mount.key}:${mount.path}:${mount.readOnly ? "ro" : "rw"}`,
  );
  const secrets: ComposeServiceSecret[] = [];
  for (const file of spec.files.map((f) => mountedFile(spec.role, f))) {
    if ("secret" in file.source) {
      secrets.push({ source: secretKey(spec.role, file.source.secret), target: file.containerPath });
    } else {
      volumes.push(`./${file.hostPath}:${file.containerPath}:ro`);
    }
  }
  const dependsOn: ComposeService["depends_on"] = {};
  for (const { service, condition } of spec.dependsOn)
    dependsOn[service] = { condition: dependencyCondition[condition] };
  const filesVersion = input.filesVersion?.[spec.role];
  const health = spec.health;

  return {
    container_name: spec.name,
    hostname: spec.service,
    image: input.plan.images[spec.image].ref,
    ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
    command: commandArgs(spec.command, input.generated),
    environment: spec.env,
    user: spec.user,
    read_only: spec.readOnly,
    cap_drop: spec.capDrop,
    ...(spec.capAdd.length > 0 ? { cap_add: spec.capAdd } : {}),
    security_opt: spec.securityOpt,
    privileged: false,
    init: spec.init,
    tmpfs: Object.entries(spec.tmpfs).map(([path, options]) => `${path}:${options}`),
    mem_limit: spec.memory.limitBytes,
    mem_reservation: spec.memory.reservationBytes,
    memswap_limit: spec.memory.swapBytes,
    cpus: spec.cpus,
    cpu_shares: spec.cpuShares,
    pids_limit: spec.pidsLimit,
    restart: spec.restart,
    healthcheck: health
      ? {
          test: ["CMD", ...health.command],
          interval: seconds(health.intervalSeconds),
          timeout: seconds(health.timeoutSeconds),
          retries: health.retries,
          start_period: seconds(health.startPeriodSeconds),
        }
      : { disable: true },
    networks: Object.fromEntries(spec.networks.map(({ network, aliases }) => [network, { aliases }])),
    ...(spec.ports.length > 0
      ? {
          ports: spec.ports.map(
            (port) =>
              `${port.published.hostAddress}:${port.published.hostPort}:${port.containerPort}/${port.protocol}`,
          ),
        }
      : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(Object.keys(dependsOn).length > 0 ? { depends_on: dependsOn } : {}),
    logging: spec.log,
    stop_grace_period: seconds(spec.stopGraceSeconds),
    labels: {
      ...spec.labels,
      "app.kubernetes.io/managed-by": "docker-compose",
      ...(filesVersion ? { "chatapi.files": filesVersion } : {}),
    },
  };
}

export function renderCompose(input: ComposeRenderInput): RenderedCompose {
  const { plan } = input;
  const specs = containerSpecs(plan);
  const services: Record<string, ComposeService> = {};
  for (const spec of specs) services[spec.service] = escapeDollars(serviceFor(input, spec));

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
  for (const mount of specs.flatMap((spec) => spec.volumes)) {
    if (mount.hostPath) continue;
    volumes[mount.key] = {
      name: mount.name,
      labels: { "chatapi.stack": plan.stack, "chatapi.purpose": mount.purpose },
    };
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
