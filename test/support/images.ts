// Docker-tier tests need the offline and app images that scripts/setup --for test builds: a
// missing one fails the test loudly, naming the command that makes it.
import { run } from "../../toolbox/exec";

export async function requireImages(images: string[]): Promise<void> {
  for (const image of images) {
    const found = await run("docker", ["image", "inspect", image], { reject: false });
    if (found.exitCode !== 0)
      throw new Error(
        `image ${image} is missing: run scripts/setup --for test (it builds the offline and app images)`,
      );
  }
}
