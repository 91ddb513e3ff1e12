// Container image references (the distribution/reference grammar Docker and containerd use).

export interface ImageRef {
  /** Registry host; docker.io when the reference names none. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const reference = new RegExp(
  `^(?:(${domain})/)?(${pathComponent}(?:/${pathComponent})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);

/** An image ID (`sha256:<64 hex>`), as a container shows an image that was pulled or built. */
export const isImageId = (ref: string) => /^sha256:[0-9a-f]{64}$/.test(ref);

export function parseImageRef(ref: string): ImageRef | undefined {
  const match = reference.exec(ref.trim());
  if (!match) return undefined;
  const [, first, path, tag, digest] = match;
  // A first component without '.', ':' or 'localhost' is a Docker Hub namespace, not a registry.
  const isRegistry = first !== undefined && (/[.:]/.test(first) || first === "localhost");
  return {
    registry: isRegistry ? first! : "docker.io",
    repository: first !== undefined && !isRegistry ? `${first}/${path}` : path!,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** Why a reference is not pinned, or undefined when it is. */
export function unpinnedReason(ref: string): string | undefined {
  const parsed = parseImageRef(ref);
  if (!parsed) return "is not a valid image reference";
  if (parsed.digest) return undefined;
  if (!parsed.tag) return "has no tag (an untagged image means latest)";
  if (parsed.tag === "latest") return "uses the tag latest";
  return undefined;
}

/** Last path component of the repository: `nginxinc/nginx-unprivileged` → `nginx-unprivileged`. */
export const imageBaseName = (ref: string) => parseImageRef(ref)?.repository.split("/").at(-1);
