// Read-only root filesystems, shared by the mandatory rule (the app, nginx, anything else) and
// the advisory one for data stores (whose official images expect to write outside volumes).
import { describeContainer } from "./kubernetes";
import type { Subject } from "./types";
import { at } from "./values";
import { dockerWorkload, kubernetesWorkload } from "./workloads";

/** Writable-root findings for the workloads `applies` selects by role. */
export function writableRoots(subject: Subject, applies: (role: string | undefined) => boolean): string[] {
  const workload = kubernetesWorkload(subject);
  if (workload) {
    if (!applies(workload.role)) return [];
    return workload.containers
      .filter((c) => at(c.spec, "securityContext", "readOnlyRootFilesystem") !== true)
      .map(
        (c) =>
          `${describeContainer(c)} (role ${workload.role ?? "unknown"}) has a writable root filesystem (securityContext.readOnlyRootFilesystem is not true)`,
      );
  }
  const container = dockerWorkload(subject);
  if (!container || !applies(container.role)) return [];
  return subject.props.readOnly === true
    ? []
    : [
        `the container (role ${container.role ?? "unknown"}) has a writable root filesystem (readOnly is not true)`,
      ];
}
