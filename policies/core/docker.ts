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
