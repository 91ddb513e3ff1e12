import { writableRoots } from "../core/read-only";
import { isDataStore } from "../core/roles";
import type { ResourceRule } from "../core/types";

export const readOnlyRootFilesystemDatastores: ResourceRule = {
  kind: "resource",
  name: "read-only-root-filesystem-datastores",
  description:
    "PostgreSQL, Redis and RabbitMQ should run with a read-only root filesystem too (advisory: their images write outside the data volume at start).",
  enforcementLevel: "advisory",
  severity: "low",
  remediation:
    "Set the read-only root and give each store writable space where it needs it: PostgreSQL /var/run/postgresql and /tmp, Redis /tmp, RabbitMQ /tmp (its data folder is a volume already).",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    return writableRoots(subject, isDataStore);
  },
};
