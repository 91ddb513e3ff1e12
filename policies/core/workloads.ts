// The two shapes of "something that runs containers": a Kubernetes workload (its pod template)
// and a running Docker container, each with its ChatAPI role.
import { containerName, dockerLabels, isContainer, neverStarted } from "./docker";
import {
  type ContainerRef,
  containersOf,
  kubernetesKind,
  namespaceOf,
  objectName,
  podTemplateOf,
} from "./kubernetes";
import { roleOf } from "./roles";
import type { Subject } from "./types";
import { type Dict, known, str } from "./values";

export interface KubernetesWorkload {
  subject: Subject;
  kind: string;
  name: string;
  namespace: string;
  pod: Dict;
  /** Pod template labels merged over the workload's own. */
  labels: Record<string, string>;
  podLabels: Record<string, string>;
  containers: ContainerRef[];
  role?: string;
}

export function kubernetesWorkload(subject: Subject): KubernetesWorkload | undefined {
  const template = podTemplateOf(subject);
  if (!template) return undefined;
  const containers = containersOf(template.spec);
  const labels = { ...template.workloadLabels, ...template.labels };
  const role = roleOf(
    labels,
    containers.map((c) => str(c.spec.image)),
  );
  return {
    subject,
    kind: kubernetesKind(subject)!.kind,
    name: objectName(subject),
    namespace: namespaceOf(subject),
    pod: template.spec,
    labels,
    podLabels: template.labels,
    containers,
    ...(role ? { role } : {}),
  };
}

export interface DockerWorkload {
  subject: Subject;
  name: string;
  labels: Record<string, string>;
  role?: string;
}

/** A Docker container that runs a process (never-started files containers are left out). */
export function dockerWorkload(subject: Subject): DockerWorkload | undefined {
  if (!isContainer(subject) || neverStarted(subject)) return undefined;
  const labels = dockerLabels(subject.props);
  // The image is usually an image ID during preview (unknown) or after it (sha256:...).
  const image = known(() => str(subject.props.image));
  const role = roleOf(labels, [image]);
  return { subject, name: containerName(subject), labels, ...(role ? { role } : {}) };
}

export const kubernetesWorkloads = (subjects: Subject[]) =>
  subjects.map(kubernetesWorkload).filter((w): w is KubernetesWorkload => w !== undefined);

export const dockerWorkloads = (subjects: Subject[]) =>
  subjects.map(dockerWorkload).filter((w): w is DockerWorkload => w !== undefined);
