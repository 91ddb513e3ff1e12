// Plain Kubernetes manifests (e.g. `helm template` output) as rule subjects: every YAML
// document of a file or a folder (recursively), `kind: List` expanded, each object's Pulumi
// type token derived from its apiVersion and kind.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { extname, join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { typeTokenOf } from "../core/kubernetes";
import type { Subject } from "../core/types";
import { type Dict, isDict, list, str } from "../core/values";

export class ManifestError extends Error {
  override name = "ManifestError";
}

function yamlFiles(path: string): string[] {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new ManifestError(`${path}: no such file or folder`);
  if (stat.isFile()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) return yamlFiles(full);
      return [".yaml", ".yml", ".json"].includes(extname(entry)) ? [full] : [];
    });
}

function toSubject(object: Dict, where: string): Subject {
  const apiVersion = str(object.apiVersion);
  const kind = str(object.kind);
  if (!apiVersion || !kind)
    throw new ManifestError(`${where}: not a Kubernetes object (no apiVersion or kind)`);
  const name = str((object.metadata as Dict | undefined)?.name) ?? "(unnamed)";
  const namespace = str((object.metadata as Dict | undefined)?.namespace);
  return {
    type: typeTokenOf(apiVersion, kind),
    name: namespace ? `${namespace}/${name}` : name,
    props: object,
  };
}

export function loadManifests(path: string): Subject[] {
  const files = yamlFiles(path);
  if (files.length === 0) throw new ManifestError(`${path}: no .yaml, .yml or .json files`);
  return files.flatMap((file) => {
    const documents = parseAllDocuments(readFileSync(file, "utf8"));
    const shown = relative(process.cwd(), file) || file;
    return (Array.isArray(documents) ? documents : [documents]).flatMap((doc, i) => {
      const where = `${shown} (document ${i + 1})`;
      if (doc.errors.length > 0) throw new ManifestError(`${where}: ${doc.errors[0]!.message}`);
      const object: unknown = doc.toJS();
      if (object === null || object === undefined) return [];
      if (!isDict(object)) throw new ManifestError(`${where}: not a Kubernetes object (a ${typeof object})`);
      if (object.kind === "List" || str(object.kind)?.endsWith("List"))
        return list(object.items).map((item, j) =>
          toSubject(isDict(item) ? item : {}, `${where} item ${j + 1}`),
        );
      return [toSubject(object, where)];
    });
  });
}
