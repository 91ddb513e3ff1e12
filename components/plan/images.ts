// Image plan: every reference from config; the app image is either prebuilt (config) or
// built from app/Dockerfile with its runtime and build-stage images as the BASE_IMAGE and
// BUILD_IMAGE build arguments.
import type { StackSettings } from "../config/types";
import type { CoreImageKey, DeploymentPlan, ImageKey, ImagePlan } from "./types";

/** The reference of an image the plan runs (monitoring images exist only with monitoring on). */
export function imageRef(plan: DeploymentPlan, key: ImageKey): string {
  const image = plan.images[key];
  if (!image) throw new Error(`stack ${plan.stack}: the plan has no image ${key}`);
  return image.ref;
}

export function planImages(s: StackSettings): Record<CoreImageKey, ImagePlan> {
  // Offline images exist only on the engine they were built on: never pull them.
  const pull = s.images.preset === "upstream";
  const app: ImagePlan = s.images.app
    ? { ref: s.images.app, pull: true }
    : {
        ref: s.images.appBuildName,
        pull: false,
        build: {
          context: ".",
          dockerfile: "app/Dockerfile",
          args: { BASE_IMAGE: s.images.appBaseImage, BUILD_IMAGE: s.images.appBuildImage },
        },
      };
  return {
    app,
    postgres: { ref: s.images.postgres, pull },
    redis: { ref: s.images.redis, pull },
    rabbitmq: { ref: s.images.rabbitmq, pull },
    nginx: { ref: s.images.nginx, pull },
  };
}
