// One view of "what a container is", read from three places, so they can be compared field by
// field: a container as the Pulumi Docker target's mapping (docker.ContainerArgs) writes it, a
// compose service as `docker-compose config` reads the rendered file, and `docker inspect` of
// a running container. Both files come from the same ContainerView
// (components/containers/container-spec.ts): comparing them checks the two mappings.
// Differences come back as paths ("chatapi-x-api-1.env.PORT: ...").
//
// Normalised on purpose (each is a mechanism, not a difference in the container):
// - files: Pulumi uploads them into volumes filled by never-started "<name>-files" containers
//   and mounts those read-only; compose bind-mounts files (secrets through `secrets:`). Both
//   become { path: { mode, owner, sha256 of non-secret content } } — what the process sees.
//   The file volumes are therefore not in `volumes` (data volumes only).
// - memory (MiB vs bytes), cpus (string vs number), stop grace ("45s" vs 45), tmpfs and port
//   syntaxes: converted to one unit/format.
// - labels: app.kubernetes.io/managed-by says pulumi or docker-compose; chatapi.files (a
//   version of the files, on both) compared as present; Pulumi's gate labels
//   (chatapi.after.*, chatapi.upstream-containers) are its way to order and re-create
//   containers, as compose's depends_on is.
// - start order: Pulumi's is the components' dependsOn (docker-stack.test.ts), compose's is
//   depends_on: read from compose only.
// - pids limit: the docker provider (@pulumi/docker 5.2) has no PidsLimit; compose sets it.
//   Reported separately (compose-only), not compared.
import { createHash } from "node:crypto";
import { statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerSpec } from "../../components/containers/container-spec";
import { type Captured, plain } from "./pulumi-mocks";

export interface FileSpec {
  mode: string;
  owner: string;
  /** sha256 of the content for plain (non-secret) files; "secret" otherwise. */
  content: string;
}

export const HOST_NETWORK = "(the host's network)";

/** Fields the readers give as the spec has them; the others in each tool's common form. */
export type ContainerView = Pick<
  ContainerSpec,
  "name" | "command" | "env" | "user" | "readOnly" | "capDrop" | "capAdd" | "securityOpt" | "init" | "tmpfs"
> & {
  /** HOST_NETWORK for a container in the host's network namespace (it has no host name of its own). */
  hostname: string;
  image: string;
  entrypoint: string[] | null;
  files: Record<string, FileSpec>;
  privileged: boolean;
  memory: { limit: number; reservation: number; swap: number };
  cpus: number;
  cpuShares: number;
  restart: string;
  /** "disabled": the image's HEALTHCHECK switched off; null: none set (the image's applies). */
  healthcheck: HealthCheck | "disabled" | null;
  networks: Record<string, string[]>;
  ports: string[];
  volumes: Record<string, { source: string; readOnly: boolean }>;
  log: { driver: string; options: Record<string, string> };
  stopGraceSeconds: number;
  labels: Record<string, string>;
  /** Containers started before this one, and what each must have done first. */
  dependsOn: Record<string, "healthy" | "completed">;
};

interface HealthCheck {
  test: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

const MiB = 1024 ** 2;
const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const sortObject = <T>(o: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
/** "1m30s", "90s", "45" → seconds (docker-compose config prints 60s as 1m). */
const seconds = (text: string): number => {
  if (/^\d+$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+)(h|m|s)/g)];
  if (parts.length === 0) throw new Error(`duration ${text}`);
  return parts.reduce(
    (sum, [, n, unit]) => sum + Number(n) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1),
    0,
  );
};
const duration = (text: string) => `${seconds(text)}s`;

const MECHANISM_LABELS = /^(chatapi\.after\.|chatapi\.upstream-containers$|app\.kubernetes\.io\/managed-by$)/;

function labelsOf(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (MECHANISM_LABELS.test(key) || key.startsWith("com.docker.compose.")) continue;
    out[key] = key === "chatapi.files" ? "<present>" : value;
  }
  return sortObject(out);
}

const parent = (path: string) => path.slice(0, path.lastIndexOf("/"));
const envRecord = (env: string[] | null) =>
  Object.fromEntries((env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

// ---------------------------------------------------------------------------------------------
// The Pulumi Docker target's mapping (plain values: what the engine receives once outputs resolve)

export function fromDockerArgs(args: object, files?: object): ContainerView {
  const a = args as Record<string, unknown>;
  const uploads = ((files as { uploads?: unknown } | undefined)?.uploads ?? []) as {
    file: string;
    content: string;
    permissions: string;
    owner: string;
    group: string;
  }[];
  const fileSpecs: Record<string, FileSpec> = {};
  for (const u of uploads)
    fileSpecs[u.file] = {
      mode: u.permissions,
      owner: `${u.owner}:${u.group}`,
      content: u.permissions === "0400" ? "secret" : sha(u.content),
    };
  const fileFolders = new Set(uploads.map((u) => parent(u.file)));
  const volumes: ContainerView["volumes"] = {};
  for (const v of (a.volumes ?? []) as {
    volumeName?: string;
    hostPath?: string;
    containerPath: string;
    readOnly?: boolean;
  }[]) {
    if (fileFolders.has(v.containerPath) && v.readOnly) continue; // a files volume
    volumes[v.containerPath] = { source: String(v.volumeName ?? v.hostPath), readOnly: Boolean(v.readOnly) };
  }
  const health = a.healthcheck as Omit<HealthCheck, "test"> & { tests: string[] };
  return {
    name: String(a.name),
    hostname: a.networkMode === "host" ? HOST_NETWORK : String(a.hostname),
    image: String(a.image),
    entrypoint: (a.entrypoints as string[] | undefined) ?? null,
    command: a.command as string[],
    env: sortObject(envRecord(a.envs as string[])),
    files: sortObject(fileSpecs),
    user: String(a.user),
    readOnly: Boolean(a.readOnly),
    capDrop: [...((a.capabilities as { drops?: string[] }).drops ?? [])].sort(),
    capAdd: [...((a.capabilities as { adds?: string[] }).adds ?? [])].sort(),
    securityOpt: [...((a.securityOpts as string[]) ?? [])].sort(),
    privileged: Boolean(a.privileged),
    init: Boolean(a.init),
    tmpfs: sortObject((a.tmpfs as Record<string, string>) ?? {}),
    memory: {
      limit: Number(a.memory) * MiB,
      reservation: Number(a.memoryReservation) * MiB,
      swap: Number(a.memorySwap) * MiB,
    },
    cpus: Number(a.cpus),
    cpuShares: Number(a.cpuShares),
    restart: String(a.restart),
    healthcheck:
      health.tests[0] === "NONE"
        ? "disabled"
        : {
            test: health.tests,
            interval: duration(health.interval),
            timeout: duration(health.timeout),
            retries: health.retries,
            startPeriod: duration(health.startPeriod),
          },
    networks: sortObject(
      Object.fromEntries(
        ((a.networksAdvanced ?? []) as { name: string; aliases?: string[] }[]).map((n) => [
          n.name,
          [...(n.aliases ?? [])].sort(),
        ]),
      ),
    ),
    ports: ((a.ports ?? []) as { internal: number; external: number; ip: string; protocol: string }[])
      .map((p) => `${p.ip}:${p.external}:${p.internal}/${p.protocol}`)
      .sort(),
    volumes: sortObject(volumes),
    log: { driver: String(a.logDriver), options: sortObject((a.logOpts as Record<string, string>) ?? {}) },
    stopGraceSeconds: Number(a.stopTimeout),
    labels: labelsOf(
      Object.fromEntries(
        ((a.labels ?? []) as { label: string; value: string }[]).map((l) => [l.label, l.value]),
      ),
    ),
    dependsOn: {},
  };
}

/**
 * The containers the Pulumi program registered under runtime mocks (a stack's captured
 * resources), by name; an image the mocks gave an ID is named by its reference again.
 */
export function fromPulumiMocks(resources: Captured[]): Map<string, ContainerView> {
  const images = new Map<string, string>();
  for (const r of resources) {
    if (r.type === "docker:index/image:Image")
      images.set(`sha256:${sha(r.name)}`, String(r.inputs.imageName));
    if (r.type === "docker:index/remoteImage:RemoteImage")
      images.set(`sha256:${sha(String(r.inputs.name))}`, String(r.inputs.name));
  }
  const containers = resources.filter((r) => r.type === "docker:index/container:Container");
  return new Map(
    containers
      .filter((c) => !c.name.endsWith("-files"))
      .map((c) => {
        const files = containers.find((r) => r.name === `${c.name}-files`);
        const view = fromDockerArgs(plain(c.inputs) as object, files && (plain(files.inputs) as object));
        return [c.name, { ...view, image: images.get(view.image) ?? view.image }];
      }),
  );
}

// ---------------------------------------------------------------------------------------------
// Compose (the file as `docker-compose config` prints it)

/** `docker-compose config` prints strings with `$` escaped as `$$`, as in the file. */
function unescape<T>(value: T): T {
  if (typeof value === "string") return value.replace(/\$\$/g, "$") as T;
  if (Array.isArray(value)) return value.map(unescape) as T;
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unescape(v)])) as T;
  return value;
}

export interface ComposeConfig {
  services: Record<string, Record<string, unknown>>;
  networks?: Record<string, { name?: string; internal?: boolean; driver_opts?: Record<string, string> }>;
  volumes?: Record<string, { name?: string }>;
  secrets?: Record<string, { file: string }>;
}

function fileSpecOnHost(path: string, secret: boolean): FileSpec {
  const stat = statSync(path);
  return {
    mode: `0${(stat.mode & 0o777).toString(8)}`,
    owner: `${stat.uid}:${stat.gid}`,
    content: secret ? "secret" : sha(readFileSync(path, "utf8")),
  };
}

/** @param dir the folder of the compose file (relative paths resolve against it). */
export function fromCompose(config: ComposeConfig, serviceKey: string, dir: string): ContainerView {
  const s = unescape(config.services[serviceKey]!) as Record<string, unknown>;
  const resolvePath = (p: string) => (p.startsWith("/") ? p : join(dir, p));
  const files: Record<string, FileSpec> = {};
  for (const secret of (s.secrets ?? []) as { source: string; target: string }[]) {
    const file = config.secrets?.[secret.source]?.file;
    if (!file) throw new Error(`${serviceKey}: secret ${secret.source} has no file`);
    files[secret.target] = fileSpecOnHost(resolvePath(file), true);
  }
  const volumes: ContainerView["volumes"] = {};
  for (const spec of (s.volumes ?? []) as string[]) {
    const [source, target, mode] = spec.split(":") as [string, string, string | undefined];
    // Our mounted files live under <dir>/files (compose makes relative paths absolute).
    const bindFile = source.startsWith("./") || source.startsWith(`${join(dir, "files")}/`);
    if (bindFile) {
      files[target] = fileSpecOnHost(resolvePath(source), false);
      continue;
    }
    const named = config.volumes?.[source]?.name;
    volumes[target] = { source: named ?? source, readOnly: mode === "ro" };
  }
  const health = s.healthcheck as
    | {
        test: string[];
        interval: string;
        timeout: string;
        retries: number;
        start_period: string;
        disable?: boolean;
      }
    | undefined;
  const networks: Record<string, string[]> = {};
  for (const [key, attachment] of Object.entries(
    (s.networks ?? {}) as Record<string, { aliases?: string[] } | null>,
  )) {
    networks[config.networks?.[key]?.name ?? key] = [...(attachment?.aliases ?? [])].sort();
  }
  const containerOf = (key: string) => String(config.services[key]?.container_name ?? key);
  const dependsOn: ContainerView["dependsOn"] = {};
  for (const [key, dep] of Object.entries((s.depends_on ?? {}) as Record<string, { condition: string }>))
    dependsOn[containerOf(key)] =
      dep.condition === "service_completed_successfully" ? "completed" : "healthy";
  const logging = s.logging as { driver: string; options?: Record<string, string> };

  return {
    name: String(s.container_name),
    hostname: s.network_mode === "host" ? HOST_NETWORK : String(s.hostname),
    image: String(s.image),
    entrypoint: (s.entrypoint as string[] | undefined) ?? null,
    command: s.command as string[],
    env: sortObject((s.environment ?? {}) as Record<string, string>),
    files: sortObject(files),
    user: String(s.user),
    readOnly: Boolean(s.read_only),
    capDrop: [...((s.cap_drop as string[]) ?? [])].sort(),
    capAdd: [...((s.cap_add as string[]) ?? [])].sort(),
    securityOpt: [...((s.security_opt as string[]) ?? [])].sort(),
    privileged: Boolean(s.privileged),
    init: Boolean(s.init),
    tmpfs: sortObject(
      Object.fromEntries(
        ((s.tmpfs ?? []) as string[]).map((t) => [t.slice(0, t.indexOf(":")), t.slice(t.indexOf(":") + 1)]),
      ),
    ),
    memory: {
      limit: Number(s.mem_limit),
      reservation: Number(s.mem_reservation),
      swap: Number(s.memswap_limit),
    },
    cpus: Number(s.cpus),
    cpuShares: Number(s.cpu_shares),
    restart: String(s.restart),
    // docker-compose config writes `disable: true` as `test: ["NONE"]`, as the engine stores it.
    healthcheck:
      health?.disable || health?.test[0] === "NONE"
        ? "disabled"
        : health
          ? {
              test: health.test,
              interval: duration(health.interval),
              timeout: duration(health.timeout),
              retries: health.retries,
              startPeriod: duration(health.start_period),
            }
          : null,
    networks: sortObject(networks),
    ports: [...((s.ports ?? []) as string[])].sort(),
    volumes: sortObject(volumes),
    log: { driver: logging.driver, options: sortObject(logging.options ?? {}) },
    stopGraceSeconds: seconds(String(s.stop_grace_period)),
    labels: labelsOf((s.labels ?? {}) as Record<string, string>),
    dependsOn: sortObject(dependsOn),
  };
}

// ---------------------------------------------------------------------------------------------
// Differences

/** Every path where the two differ, with both values; empty when they are the same. */
export function diffSpecs(
  a: unknown,
  b: unknown,
  path: string,
  names: [string, string] = ["a", "b"],
): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffSpecs(a[k], b[k], `${path}.${k}`, names));
  }
  return [`${path}: ${names[0]} ${JSON.stringify(a)} != ${names[1]} ${JSON.stringify(b)}`];
}

// ---------------------------------------------------------------------------------------------
// docker inspect (a running stack)

export interface InspectedContainer {
  Name: string;
  Config: {
    Hostname: string;
    Image: string;
    User: string;
    Entrypoint: string[] | null;
    Cmd: string[] | null;
    Env: string[] | null;
    Labels: Record<string, string> | null;
    StopTimeout?: number;
    Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
  };
  HostConfig: {
    ReadonlyRootfs: boolean;
    NetworkMode?: string;
    CapDrop: string[] | null;
    CapAdd: string[] | null;
    SecurityOpt: string[] | null;
    Privileged: boolean;
    Init: boolean | null;
    Tmpfs: Record<string, string> | null;
    Memory: number;
    MemoryReservation: number;
    MemorySwap: number;
    NanoCpus: number;
    CpuShares: number;
    PidsLimit: number | null;
    RestartPolicy: { Name: string };
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]> | null;
    LogConfig: { Type: string; Config: Record<string, string> };
  };
  Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[];
  NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
}

export interface InspectedImage {
  Config: { Entrypoint: string[] | null; Env: string[] | null; Labels: Record<string, string> | null };
}

/**
 * What the engine really runs. The image's own env, labels and entrypoint are removed where the
 * container did not set them; aliases Docker and Compose add (the container ID and name) and
 * anonymous volumes are dropped; start order is not visible here (dependsOn is left empty).
 */
export function fromInspect(c: InspectedContainer, image: InspectedImage, filesDir: string): ContainerView {
  const ns = (n: number) => `${Math.round(n / 1e9)}s`;
  const imageEnv = envRecord(image.Config.Env);
  const env = Object.fromEntries(
    Object.entries(envRecord(c.Config.Env)).filter(([k, v]) => imageEnv[k] !== v),
  );
  const imageLabels = image.Config.Labels ?? {};
  const labels = Object.fromEntries(
    Object.entries(c.Config.Labels ?? {}).filter(([k, v]) => imageLabels[k] !== v),
  );
  const files: Record<string, FileSpec> = {};
  const volumes: ContainerView["volumes"] = {};
  for (const m of c.Mounts) {
    if (m.Type === "bind" && m.Source.startsWith(`${filesDir}/`)) {
      const stat = statSync(m.Source);
      const secret = (stat.mode & 0o777) === 0o400;
      files[m.Destination] = fileSpecOnHost(m.Source, secret);
    } else if (m.Type === "volume" && /^[0-9a-f]{64}$/.test(m.Name ?? "")) {
      continue; // anonymous: an image VOLUME nobody mounted over
    } else {
      volumes[m.Destination] = { source: m.Type === "volume" ? String(m.Name) : m.Source, readOnly: !m.RW };
    }
  }
  const health = c.Config.Healthcheck;
  const networks: Record<string, string[]> = {};
  const h = c.HostConfig;
  // Compose v2 also lists the container's own name and its service's name (the same as one of the
  // container's aliases here): Docker resolves both anyway, so they are no difference.
  const containerName = c.Name.replace(/^\//, "");
  for (const [name, n] of Object.entries(c.NetworkSettings.Networks))
    if (h.NetworkMode !== "host")
      networks[name] = [
        ...new Set((n.Aliases ?? []).filter((a) => !/^[0-9a-f]{12}$/.test(a) && a !== containerName)),
      ].sort();
  return {
    name: c.Name.replace(/^\//, ""),
    hostname: h.NetworkMode === "host" ? HOST_NETWORK : c.Config.Hostname,
    image: c.Config.Image,
    entrypoint:
      JSON.stringify(c.Config.Entrypoint) === JSON.stringify(image.Config.Entrypoint)
        ? null
        : c.Config.Entrypoint,
    command: c.Config.Cmd ?? [],
    env: sortObject(env),
    files: sortObject(files),
    user: c.Config.User,
    readOnly: h.ReadonlyRootfs,
    capDrop: [...(h.CapDrop ?? [])].sort(),
    capAdd: [...(h.CapAdd ?? [])].sort(),
    securityOpt: [...(h.SecurityOpt ?? [])].sort(),
    privileged: h.Privileged,
    init: Boolean(h.Init),
    tmpfs: sortObject(h.Tmpfs ?? {}),
    memory: { limit: h.Memory, reservation: h.MemoryReservation, swap: h.MemorySwap },
    cpus: h.NanoCpus / 1e9,
    cpuShares: h.CpuShares,
    restart: h.RestartPolicy.Name || "no",
    healthcheck:
      health?.Test[0] === "NONE"
        ? "disabled"
        : health
          ? {
              test: health.Test,
              interval: ns(health.Interval),
              timeout: ns(health.Timeout),
              retries: health.Retries,
              startPeriod: ns(health.StartPeriod),
            }
          : null,
    networks: sortObject(networks),
    ports: Object.entries(h.PortBindings ?? {})
      .flatMap(([port, bindings]) => bindings.map((b) => `${b.HostIp}:${b.HostPort}:${port}`))
      .sort(),
    volumes: sortObject(volumes),
    log: { driver: h.LogConfig.Type, options: sortObject(h.LogConfig.Config) },
    stopGraceSeconds: Number(c.Config.StopTimeout),
    labels: labelsOf(labels),
    dependsOn: {},
  };
}

/**
 * A spec as the engine completes it from the image (its env, labels and entrypoint), so a
 * setting the toolkit states explicitly equals the same value inherited from the image.
 */
export function withImageDefaults(spec: ContainerView, image: InspectedImage): ContainerView {
  return {
    ...spec,
    entrypoint: spec.entrypoint ?? image.Config.Entrypoint,
    env: sortObject({ ...envRecord(image.Config.Env), ...spec.env }),
    labels: labelsOf({ ...(image.Config.Labels ?? {}), ...spec.labels }),
  };
}
