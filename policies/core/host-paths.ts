// Host folders a workload reaches: Kubernetes hostPath volumes, Docker bind mounts and devices.
import { isContainer } from "./docker";
import type { Subject } from "./types";
import { at, dicts, str } from "./values";
import { kubernetesWorkload } from "./workloads";

export interface HostPath {
  path: string;
  /** For messages: `volume "data"`, `the bind mount at /backups`. */
  where: string;
}

export type HostPaths =
  { target: "kubernetes"; paths: HostPath[] } | { target: "docker"; paths: HostPath[]; devices: string[] };

/** Normalises `/var/run/` and `/var//run` to `/var/run`. */
export const normalisePath = (path: string) => `/${path.split("/").filter(Boolean).join("/")}`;

export function hostPathsOf(subject: Subject): HostPaths | undefined {
  const workload = kubernetesWorkload(subject);
  if (workload) {
    const paths = dicts(workload.pod.volumes).flatMap((volume) => {
      const path = str(at(volume, "hostPath", "path"));
      return path
        ? [{ path: normalisePath(path), where: `volume ${JSON.stringify(str(volume.name) ?? "")}` }]
        : [];
    });
    return { target: "kubernetes", paths };
  }
  if (!isContainer(subject)) return undefined;
  const paths: HostPath[] = [];
  for (const volume of dicts(subject.props.volumes)) {
    const path = str(volume.hostPath);
    if (path)
      paths.push({
        path: normalisePath(path),
        where: `the bind mount at ${str(volume.containerPath) ?? "?"}`,
      });
  }
  for (const mount of dicts(subject.props.mounts)) {
    const path = str(mount.source);
    if (mount.type === "bind" && path)
      paths.push({ path: normalisePath(path), where: `the bind mount at ${str(mount.target) ?? "?"}` });
  }
  const devices = dicts(subject.props.devices).flatMap((d) => (str(d.hostPath) ? [str(d.hostPath)!] : []));
  return { target: "docker", paths, devices };
}
