import { writableRoots } from "../core/read-only";
import { isDataStore } from "../core/roles";
import type { ResourceRule } from "../core/types";

export const readOnlyRootFilesystem: ResourceRule = {
  kind: "resource",
  name: "read-only-root-filesystem",
  description:
    "The API, workers, jobs and nginx run with a read-only root filesystem (data stores: see read-only-root-filesystem-datastores).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "Kubernetes: securityContext.readOnlyRootFilesystem: true, with an emptyDir at /tmp (and any other folder the process writes). Docker: readOnly: true with a tmpfs at /tmp.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    return writableRoots(subject, (role) => !isDataStore(role));
  },
};
