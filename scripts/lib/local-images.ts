// Every image a local stack runs, made ready on the engine before compose starts it. The built
// images (app, ops) need their base images on the engine, so those come first: pulled from their
// registry (upstream preset) or made by scripts/images (offline preset). On a fresh engine none
// of them is there yet.
import type { DeploymentPlan, ImageKey, ImagePlan } from "../../components/plan/types";

/** What ensurePlanImages does on the engine (scripts/local passes the real docker). */
export interface ImageEngine {
  present(ref: string): Promise<boolean>;
  pull(ref: string): Promise<void>;
  /** scripts/images: every offline image (chatapi-local/*). */
  makeOffline(): Promise<void>;
  /** Builds (or finds cached) one image of the plan from its Dockerfile. */
  build(key: ImageKey, ref: string, recipe: NonNullable<ImagePlan["build"]>): Promise<void>;
}

/**
 * The refs that must be on the engine before anything is built: every pulled or offline image
 * and every built image's base images (pulled or made as the plan says: images.preset).
 */
export function imagesBeforeBuilds(plan: Pick<DeploymentPlan, "images">): Map<string, { pull: boolean }> {
  const needed = new Map<string, { pull: boolean }>();
  for (const image of Object.values(plan.images)) {
    if (image.build)
      for (const base of Object.values(image.build.args)) needed.set(base, { pull: image.build.pullBases });
    else needed.set(image.ref, { pull: image.pull });
  }
  return needed;
}

export async function ensurePlanImages(
  plan: Pick<DeploymentPlan, "images">,
  engine: ImageEngine,
  say: (line: string) => void,
): Promise<void> {
  const offlineMissing: string[] = [];
  for (const [ref, { pull }] of imagesBeforeBuilds(plan)) {
    if (await engine.present(ref)) continue;
    if (pull) {
      say(`image: docker pull ${ref}`);
      await engine.pull(ref);
    } else offlineMissing.push(ref);
  }
  if (offlineMissing.length > 0) {
    say(
      `offline images missing (${offlineMissing.join(", ")}): scripts/images (about 3–4 min the first time)`,
    );
    await engine.makeOffline();
    const still: string[] = [];
    for (const ref of offlineMissing) if (!(await engine.present(ref))) still.push(ref);
    if (still.length > 0)
      throw new Error(
        `scripts/images did not make ${still.join(", ")}: the stack names offline images that scripts/images does not build (images.* in the stack file?)`,
      );
  }
  for (const [key, image] of Object.entries(plan.images) as [ImageKey, ImagePlan][])
    if (image.build) await engine.build(key, image.ref, image.build);
}
