// A compose file holds the stack's own services and those of the releases that run
// (../containers/release.ts): the live one, and during a deploy the new one beside it. Each
// release's part is kept with the release (scripts/lib/releases.ts) so a rollback runs exactly
// what ran before. Pure.
import { RELEASE_LABEL } from "../containers/release";
import type { ComposeFile, ComposeService, ComposeVolume } from "./compose-file";

/** A release's services with what they refer to (secret files, per-instance volumes). */
export interface ComposeRelease {
  id: string;
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, ComposeVolume>;
}

export const releaseOf = (service: ComposeService): string | undefined => service.labels[RELEASE_LABEL];

/** Services with the secrets and volumes they use. */
function part(compose: ComposeFile, services: Record<string, ComposeService>) {
  const used = (key: string) =>
    Object.values(services).some((s) => (s.secrets ?? []).some((secret) => secret.source === key));
  const mounted = (key: string) =>
    Object.values(services).some((s) => (s.volumes ?? []).some((v) => v.startsWith(`${key}:`)));
  return {
    services,
    secrets: Object.fromEntries(Object.entries(compose.secrets ?? {}).filter(([key]) => used(key))),
    volumes: Object.fromEntries(Object.entries(compose.volumes ?? {}).filter(([key]) => mounted(key))),
  };
}

const servicesWhere = (compose: ComposeFile, keep: (release: string | undefined) => boolean) =>
  Object.fromEntries(Object.entries(compose.services).filter(([, service]) => keep(releaseOf(service))));

/** The part of a rendered compose file that belongs to `release`. */
export function composeRelease(compose: ComposeFile, release: string): ComposeRelease {
  const services = servicesWhere(compose, (r) => r === release);
  if (Object.keys(services).length === 0)
    throw new Error(`the compose file has no service of release ${release}`);
  return { id: release, ...part(compose, services) };
}

/** A rendered file's own services (the stack's: data stores, nginx) plus the given releases'. */
export function withReleases(compose: ComposeFile, releases: ComposeRelease[]): ComposeFile {
  const { services, secrets, volumes } = part(
    compose,
    servicesWhere(compose, (r) => r === undefined),
  );
  for (const release of releases) {
    Object.assign(services, release.services);
    Object.assign(secrets, release.secrets);
    Object.assign(volumes, release.volumes);
  }
  const { volumes: _v, secrets: _s, ...rest } = compose;
  return {
    ...rest,
    services,
    ...(Object.keys(volumes).length > 0 ? { volumes } : {}),
    ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
  };
}
