// Image plan: every reference from config; the app image is either prebuilt (config) or
// built from app/Dockerfile with its runtime and build-stage images as the BASE_IMAGE and
// BUILD_IMAGE build arguments.
import type { StackSettings } from "../config/types";
import type { ImageKey, ImagePlan } from "./types";

export function planImages(s: StackSettings): Record<ImageKey, ImagePlan> {
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
