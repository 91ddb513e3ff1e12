// Docker images into the cluster's containerd (no registry): `docker save | ctr images import`,
// skipping images containerd already holds with the same image ID.
import { join } from "node:path";
import type { ClusterConfig } from "./config";
import { output, run } from "../../toolbox/exec";
import { die, say } from "./log";
import { running } from "./processes";

/** A Docker-style short reference as containerd names it (nginx -> docker.io/library/nginx:latest). */
export function normalizeRef(ref: string): string {
  const first = ref.split("/")[0]!;
  let full = /[:@]/.test(ref.slice(ref.lastIndexOf("/") + 1)) ? ref : `${ref}:latest`;
  if (!ref.includes("/")) full = `docker.io/library/${full}`;
  else if (!first.includes(".") && !first.includes(":") && first !== "localhost") full = `docker.io/${full}`;
  return full;
}

/** "<image id> <reference>" for every reference containerd's CRI knows, from `crictl images -o json`. */
export function criImageRefs(json: string): Set<string> {
  const images = (JSON.parse(json) as { images?: { id: string; repoTags?: string[] }[] }).images ?? [];
  return new Set(images.flatMap((image) => (image.repoTags ?? []).map((tag) => `${image.id} ${tag}`)));
}

export const crictl = (config: ClusterConfig, args: string[]) =>
  output(join(config.builds.criTools, "crictl"), [
    "--config",
    join(config.state, "containerd", "crictl.yaml"),
    ...args,
  ]);

const knownRefs = async (config: ClusterConfig) =>
  criImageRefs(await crictl(config, ["images", "-o", "json"]));

/** The image IDs of Docker images, in order; a clear error naming an image Docker does not have. */
async function dockerImageIds(images: string[]): Promise<string[]> {
  const result = await run("docker", ["image", "inspect", "-f", "{{.Id}}", ...images], {
    reject: false,
    stderr: "ignore",
  });
  const ids = String(result.stdout).split("\n").filter(Boolean);
  if (ids.length !== images.length) {
    for (const image of images)
      if (
        (
          await run("docker", ["image", "inspect", image], {
            reject: false,
            stdout: "ignore",
            stderr: "ignore",
          })
        ).exitCode !== 0
      )
        die(`no Docker image '${image}'`);
  }
  return ids;
}

export async function importImages(config: ClusterConfig, images: string[]): Promise<void> {
  if (images.length === 0) return;
  if (!running(config, "containerd"))
    die("the cluster's containerd is not running (scripts/cluster up first)");
  const known = await knownRefs(config);
  const ids = await dockerImageIds(images);
  const todo = images.filter((image, i) => {
    if (!ids[i]?.startsWith("sha256:")) die(`no Docker image '${image}'`);
    return !known.has(`${ids[i]} ${normalizeRef(image)}`);
  });
  const have = images.length - todo.length;
  if (have > 0) say(`   ${have} image(s) already in containerd with the same image ID`);
  if (todo.length === 0) return;
  say(`   importing ${todo.join(" ")}`);
  const { execa } = await import("execa");
  // buffer: false: the image stream can be larger than any output buffer
  await execa("docker", ["save", ...todo], { buffer: false }).pipe(
    "ctr",
    ["--address", config.paths.containerdSocket, "-n", "k8s.io", "images", "import", "-"],
    { stdout: "ignore" },
  );
  const after = await knownRefs(config);
  const nowIds = await dockerImageIds(todo);
  todo.forEach((image, i) => {
    const ref = normalizeRef(image);
    if (![...after].some((entry) => entry.endsWith(` ${ref}`)))
      die(`import of ${image} did not reach containerd's CRI`);
    if (!after.has(`${nowIds[i]} ${ref}`))
      say(
        `   warning: ${image} changed in Docker while it was being imported; run: scripts/cluster import ${image}`,
      );
  });
}

/** The Docker images named chatapi-local/* (up imports them all). */
export async function localDockerImages(config: ClusterConfig): Promise<string[]> {
  const list = await output("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], {
    reject: false,
  });
  return [
    ...new Set(
      list.split("\n").filter((r) => r.startsWith(config.images.localPrefix) && !r.endsWith(":<none>")),
    ),
  ].sort();
}
