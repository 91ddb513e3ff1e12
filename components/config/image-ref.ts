// Container image references, checked against the grammar of distribution/reference (the one
// Docker and containerd use), plus this toolkit's rule: a tag or digest must be pinned and the
// tag must not be `latest`.

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const name = `(?:(${domain})/)?(${pathComponent}(?:/${pathComponent})*)`;
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const reference = new RegExp(`^${name}(?::(${tag}))?(?:@(${digest}))?$`);

export interface ImageReference {
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses a reference, or returns why it is not one this toolkit accepts. */
export function parseImageReference(ref: string): ImageReference | { error: string } {
  const match = reference.exec(ref);
  if (!match) return { error: "not a valid image reference" };
  const [, first, path, tagPart, digestPart] = match;
  // A first component without '.', ':' or 'localhost' is a Docker Hub namespace, not a registry.
  const isRegistry = first !== undefined && (/[.:]/.test(first) || first === "localhost");
  const repository = first !== undefined && !isRegistry ? `${first}/${path}` : path!;
  if (repository.length > 255) return { error: "the repository name is longer than 255 characters" };
  if (!tagPart && !digestPart) return { error: "no tag or digest: pin one (an untagged image means latest)" };
  if (tagPart === "latest" && !digestPart)
    return { error: "the tag latest is not pinned: use a version tag or a digest" };
  return {
    ...(isRegistry ? { registry: first } : {}),
    repository,
    ...(tagPart ? { tag: tagPart } : {}),
    ...(digestPart ? { digest: digestPart } : {}),
  };
}

export function isValidImageReference(ref: string): boolean {
  return !("error" in parseImageReference(ref));
}
