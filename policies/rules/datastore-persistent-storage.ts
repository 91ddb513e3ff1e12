import { describeContainer } from "../core/kubernetes";
import { DATA_PATHS, type DataStore, isDataStore, isMonitoring } from "../core/roles";
import type { ResourceRule } from "../core/types";
import { at, dicts, known, str } from "../core/values";
import { dockerWorkload, kubernetesWorkload } from "../core/workloads";

interface Config {
  dataPaths: Record<DataStore, string>;
}

/** Is `path` at or below `mount`? */
const within = (path: string, mount: string) =>
  path === mount || path.startsWith(mount.endsWith("/") ? mount : `${mount}/`);

export const datastorePersistentStorage: ResourceRule<Config> = {
  kind: "resource",
  name: "datastore-persistent-storage",
  description:
    "PostgreSQL, Redis and RabbitMQ keep their data on persistent storage (a PersistentVolumeClaim; a Docker volume or host folder), never in the container's own layer, emptyDir or tmpfs.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Kubernetes: run the store as a StatefulSet with a volumeClaimTemplate (or a persistentVolumeClaim volume) mounted at its data folder. Docker: mount a named volume at the data folder.",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      dataPaths: {
        type: "object",
        default: DATA_PATHS,
        description: "Data folder of each store inside its container.",
      },
    },
    defaults: { dataPaths: DATA_PATHS },
  },
  validate(subject, config) {
    const workload = kubernetesWorkload(subject);
    if (workload) {
      if (!isDataStore(workload.role)) return [];
      const dataPath = config.dataPaths[workload.role] ?? DATA_PATHS[workload.role];
      const claims = new Set([
        ...dicts(at(subject.props, "spec", "volumeClaimTemplates")).flatMap((t) => {
          const name = str(at(t, "metadata", "name"));
          return name ? [name] : [];
        }),
        ...dicts(workload.pod.volumes)
          .filter((v) => at(v, "persistentVolumeClaim", "claimName") !== undefined)
          .flatMap((v) => (str(v.name) ? [str(v.name)!] : [])),
      ]);
      return (
        workload.containers
          .filter((c) => c.kind === "container")
          // An exporter beside the store (its metrics sidecar) keeps no data.
          .filter(
            (c) =>
              !isMonitoring(
                str(c.spec.name),
                known(() => str(c.spec.image)),
              ),
          )
          .filter(
            (c) =>
              !dicts(c.spec.volumeMounts).some(
                (m) => claims.has(str(m.name) ?? "") && within(dataPath, str(m.mountPath) ?? "\0"),
              ),
          )
          .map(
            (c) => `${describeContainer(c)} (${workload.role}) keeps ${dataPath} on no PersistentVolumeClaim`,
          )
      );
    }
    const container = dockerWorkload(subject);
    if (!container || !isDataStore(container.role)) return [];
    const dataPath = config.dataPaths[container.role] ?? DATA_PATHS[container.role];
    const persistent = [
      ...dicts(subject.props.volumes)
        .filter((v) => str(v.volumeName) || str(v.hostPath))
        .map((v) => str(v.containerPath)),
      ...dicts(subject.props.mounts)
        .filter((m) => m.type === "volume" || m.type === "bind")
        .map((m) => str(m.target)),
    ].filter((p): p is string => p !== undefined);
    return persistent.some((mount) => within(dataPath, mount))
      ? []
      : [
          `the ${container.role} container keeps ${dataPath} on no volume (its data would be lost with the container)`,
        ];
  },
};
