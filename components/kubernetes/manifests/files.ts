// A workload's files (plan FilePlan) as Kubernetes volumes. Secrets under /run/secrets come
// from one projected volume (mode 0440, group = the pod's fsGroup, so the non-root process
// reads them and nobody writes them); a file elsewhere (RabbitMQ's conf.d, nginx.conf) is
// mounted on its own with subPath, so the image's other files in that folder stay visible.
import type * as k8s from "@pulumi/kubernetes";
import { SECRETS_DIR } from "../../plan/secrets";
import type { FilePlan, SecretName, WorkloadPlan } from "../../plan/types";
import type { ObjectRefs } from "./meta";

const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const inSecretsDir = (file: FilePlan) =>
  "secret" in file.source && file.path.slice(0, file.path.lastIndexOf("/")) === SECRETS_DIR;

/** Where a plan secret lives: the TLS Secret's standard keys, or the app Secret's key of the same name. */
export function secretKey(
  name: SecretName,
  refs: ObjectRefs,
): { secret: ObjectRefs["appSecret"]; key: string } {
  if (name === "tls_certificate") return { secret: refs.tlsSecret, key: "tls.crt" };
  if (name === "tls_private_key") return { secret: refs.tlsSecret, key: "tls.key" };
  return { secret: refs.appSecret, key: name };
}

export interface FileMounts {
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
}

const SECRET_MODE = 0o440;
const CONFIG_MODE = 0o444;

export function fileMounts(w: WorkloadPlan, refs: ObjectRefs): FileMounts {
  const volumes: k8s.types.input.core.v1.Volume[] = [];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [];

  const secretFiles = w.files.filter(inSecretsDir);
  if (secretFiles.length > 0) {
    // One source per Secret object, each listing only the keys this workload needs.
    const bySecret = new Map<ObjectRefs["appSecret"], k8s.types.input.core.v1.KeyToPath[]>();
    for (const file of secretFiles) {
      const { secret, key } = secretKey((file.source as { secret: SecretName }).secret, refs);
      bySecret.set(secret, [...(bySecret.get(secret) ?? []), { key, path: basename(file.path) }]);
    }
    volumes.push({
      name: "secrets",
      projected: {
        defaultMode: SECRET_MODE,
        sources: [...bySecret].map(([name, items]) => ({ secret: { name, items } })),
      },
    });
    mounts.push({ name: "secrets", mountPath: SECRETS_DIR, readOnly: true });
  }

  const others = w.files.filter((file) => !inSecretsDir(file));
  const configItems = others.filter((file) => "content" in file.source);
  if (configItems.length > 0) {
    const configMap = refs.configMaps[w.role];
    if (!configMap) throw new Error(`${w.name} has plain files but no ConfigMap was named for it`);
    volumes.push({
      name: "config",
      configMap: {
        name: configMap,
        defaultMode: CONFIG_MODE,
        items: configItems.map((file) => ({ key: basename(file.path), path: basename(file.path) })),
      },
    });
    for (const file of configItems)
      mounts.push({ name: "config", mountPath: file.path, subPath: basename(file.path), readOnly: true });
  }
  others
    .filter((file) => "secret" in file.source)
    .forEach((file, index) => {
      const { secret, key } = secretKey((file.source as { secret: SecretName }).secret, refs);
      const name = `secret-file-${index}`;
      volumes.push({
        name,
        secret: { secretName: secret, defaultMode: SECRET_MODE, items: [{ key, path: basename(file.path) }] },
      });
      mounts.push({ name, mountPath: file.path, subPath: basename(file.path), readOnly: true });
    });
  return { volumes, mounts };
}

/** Plain files of a workload, keyed by file name: the data of its ConfigMap. */
export function configMapData(w: WorkloadPlan): Record<string, string> {
  const data: Record<string, string> = {};
  for (const file of w.files) {
    if (!("content" in file.source)) continue;
    const key = basename(file.path);
    if (key in data) throw new Error(`${w.name}: two plain files named ${key}`);
    data[key] = file.source.content;
  }
  return data;
}
