// Step 3 of a release (../containers/release.ts): nginx's upstream servers file is rewritten to
// the new release's API instances, then nginx reloads gracefully. The file lives in a volume
// that nginx mounts read-only; a short-lived helper container (nginx's own image, no network,
// no capabilities) writes it, so the same step works on a remote engine (ssh://) and needs no
// write access from nginx itself.
import { type DockerEngine, dockerCli, isRunning } from "./docker-cli";
import { type NginxReloadTarget, reloadNginx } from "./nginx-reload";

export interface ReleaseSwitch {
  /** The volume nginx mounts at the servers file's folder. */
  volume: string;
  /** An image with a shell to write it with (nginx's). */
  helperImage: string;
  /** The file as nginx sees it, and its content (renderReleaseServers). */
  file: { path: string; content: string };
  nginx: NginxReloadTarget;
}

/** Writes the servers file (atomically: a rename in the volume) as root-owned 0444. */
export async function writeServersFile(engine: DockerEngine, change: ReleaseSwitch): Promise<void> {
  const name = change.file.path.slice(change.file.path.lastIndexOf("/") + 1);
  await dockerCli(
    engine,
    [
      "run",
      "--rm",
      "-i",
      "--network",
      "none",
      "--user",
      "0:0",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges:true",
      "--read-only",
      "--log-driver",
      "none",
      "--label",
      "chatapi.role=release-switch",
      "-v",
      `${change.volume}:/release`,
      "--entrypoint",
      "sh",
      change.helperImage,
      "-c",
      `umask 0222 && cat > /release/.${name}.new && mv -f /release/.${name}.new /release/${name}`,
    ],
    { input: change.file.content },
  );
}

/**
 * Points nginx at a release: writes the file, and reloads nginx when it runs (before the first
 * release nginx does not exist yet: it reads the file when it starts).
 */
export async function switchRelease(
  engine: DockerEngine,
  change: ReleaseSwitch,
): Promise<{ reloaded: boolean; ms: number }> {
  const started = Date.now();
  await writeServersFile(engine, change);
  if (!(await isRunning(engine, change.nginx.container)))
    return { reloaded: false, ms: Date.now() - started };
  await reloadNginx(engine, change.nginx);
  return { reloaded: true, ms: Date.now() - started };
}
