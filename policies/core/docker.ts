// Docker resources (@pulumi/docker 5.x) as rules see them: containers, their labels and env,
// and which containers run a process at all.
import type { Subject } from "./types";
import { type Dict, dicts, known, list, str } from "./values";

export const DOCKER_CONTAINER = "docker:index/container:Container";
export const DOCKER_IMAGE = "docker:index/image:Image";
export const DOCKER_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const DOCKER_NETWORK = "docker:index/network:Network";

export const isContainer = (subject: Subject) => subject.type === DOCKER_CONTAINER;

/**
 * Labels as a map. Values the engine does not know yet (during preview, e.g. another
 * resource's ID) are left out: rules only read labels they set themselves.
 */
export function dockerLabels(props: Dict): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of dicts(props.labels)) {
    const label = str(entry.label);
    if (!label) continue;
    const value = known(() => entry.value);
    if (typeof value === "string") out[label] = value;
  }
  return out;
}

/**
 * A container that never runs a process: created with `start: false` (the toolkit's
 * `chatapi.role=files` containers only carry files into volumes), so runtime rules skip it.
 */
export function neverStarted(subject: Subject): boolean {
  return subject.props.start === false || dockerLabels(subject.props)["chatapi.role"] === "files";
}

/** Containers that run a process. */
export const runningContainers = (subjects: Subject[]) =>
  subjects.filter((s) => isContainer(s) && !neverStarted(s));

/**
 * A one-shot container: the docker provider waits for an attached container to exit (the
 * toolkit's migration and admin bootstrap), so restart policies and health checks do not apply.
 */
export const isOneShot = (subject: Subject) => subject.props.attach === true || subject.props.rm === true;

/** `envs: ["NAME=value", ...]` as a map. */
export function dockerEnv(props: Dict): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of list(props.envs)) {
    if (typeof entry !== "string") continue;
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

export const containerName = (subject: Subject) => str(subject.props.name) ?? subject.name;

/** The only capabilities the host firewall container adds back (what iptables needs). */
export const HOST_FIREWALL_CAPABILITIES = ["NET_ADMIN", "NET_RAW"];
/** What it runs: the firewall script the stack renders (components/firewall/render-firewall.ts). */
export const HOST_FIREWALL_ENTRYPOINT = ["bash", "/etc/chatapi/firewall/firewall.sh"];

/**
 * The toolkit's host firewall container (chatapi.role=firewall), in exactly its reviewed shape:
 * the rendered firewall script as its entrypoint, root in the host's network namespace with
 * NET_ADMIN and NET_RAW only, ALL else dropped, no new
 * privileges, read-only root, not privileged, no published port, no data volume, no other host
 * namespace. Only this shape is exempt from run-as-non-root, no-host-namespaces and
 * drop-all-capabilities: a container that merely carries the label, or a firewall container with
 * anything more, is judged like any other.
 */
export function isHostFirewall(subject: Subject): boolean {
  if (!isContainer(subject) || dockerLabels(subject.props)["chatapi.role"] !== "firewall") return false;
  const p = subject.props;
  const caps = (p.capabilities ?? {}) as Dict;
  const adds = list(caps.adds).map((c) => String(c).toUpperCase().replace(/^CAP_/, ""));
  const drops = list(caps.drops).map((c) => String(c).toUpperCase());
  const user = str(p.user) ?? "";
  return (
    JSON.stringify(list(p.entrypoints)) === JSON.stringify(HOST_FIREWALL_ENTRYPOINT) &&
    p.networkMode === "host" &&
    ["pidMode", "ipcMode", "usernsMode", "cgroupnsMode"].every((field) => p[field] === undefined) &&
    /^0(:0)?$/.test(user) &&
    drops.includes("ALL") &&
    adds.every((c) => HOST_FIREWALL_CAPABILITIES.includes(c)) &&
    p.privileged !== true &&
    p.readOnly === true &&
    list(p.securityOpts).includes("no-new-privileges:true") &&
    list(p.ports).length === 0 &&
    list(p.volumes).every((v) => (v as Dict).readOnly === true && (v as Dict).hostPath === undefined)
  );
}
