// Image plan: every reference from config; the app image is either prebuilt (config) or
// built from app/Dockerfile with its runtime and build-stage images as the BASE_IMAGE and
// BUILD_IMAGE build arguments; the ops image (certbot, iptables) likewise from
// components/ops/Dockerfile, when the stack runs a container of it.
import type { StackSettings } from "../config/types";
import type { DeploymentPlan, ImageKey, ImagePlan } from "./types";

/** The plan's image of a container; a missing one (ops, monitoring: only when run) is a bug in the plan. */
export function imageOf(plan: Pick<DeploymentPlan, "images" | "stack">, key: ImageKey): ImagePlan {
  const image = plan.images[key];
  if (!image) throw new Error(`stack ${plan.stack}: the plan has no image ${key}`);
  return image;
}

/** An image built from a Dockerfile of this repository unless a prebuilt reference is given. */
function builtUnless(prebuilt: string | undefined, built: ImagePlan): ImagePlan {
  return prebuilt ? { ref: prebuilt, pull: true } : built;
}

/** `ops`: only when a container runs it (certbot, the firewall), else no stack builds it. */
export function planImages(s: StackSettings, needsOps: boolean): DeploymentPlan["images"] {
  // Offline images exist only on the engine they were built on: never pull them.
  const pull = s.images.preset === "upstream";
  const app = builtUnless(s.images.app, {
    ref: s.images.appBuildName,
    pull: false,
    build: {
      context: ".",
      dockerfile: "app/Dockerfile",
      args: { BASE_IMAGE: s.images.appBaseImage, BUILD_IMAGE: s.images.appBuildImage },
      pullBases: pull,
    },
  });
  const ops = builtUnless(s.images.ops, {
    ref: s.images.opsBuildName,
    pull: false,
    build: {
      context: "components/ops",
      dockerfile: "components/ops/Dockerfile",
      args: { BASE_IMAGE: s.images.opsBaseImage },
      pullBases: pull,
    },
  });
  return {
    app,
    postgres: { ref: s.images.postgres, pull },
    redis: { ref: s.images.redis, pull },
    rabbitmq: { ref: s.images.rabbitmq, pull },
    nginx: { ref: s.images.nginx, pull },
    ...(needsOps ? { ops } : {}),
  };
}
