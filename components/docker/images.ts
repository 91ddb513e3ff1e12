// Images on the engine: the app (and the ops image, when the stack runs it) built from their
// Dockerfiles (BASE_IMAGE build argument) unless a prebuilt reference is configured; registry images pulled by digest-stable ID; offline
// images (chatapi-local/*) used as they are, since no registry has them.
import { resolve } from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, ImageKey, ImagePlan } from "../plan/types";

export interface ImagesArgs {
  plan: DeploymentPlan;
  /** Repository root (the build context of app/Dockerfile). */
  projectDir: string;
}

export class Images extends pulumi.ComponentResource {
  /** What containers use: an image ID where the engine pulled or built it, else the reference. */
  readonly refs = {} as Record<ImageKey, pulumi.Output<string>>;

  constructor(name: string, args: ImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:docker:Images", name, {}, opts);
    const { plan } = args;
    for (const [key, image] of Object.entries(plan.images) as [ImageKey, ImagePlan | undefined][]) {
      if (!image) continue;
      const resourceName = `${plan.prefix}-image-${key}`;
      if (image.build) {
        const built = new docker.Image(
          resourceName,
          {
            imageName: image.ref,
            build: {
              context: resolve(args.projectDir, image.build.context),
              dockerfile: resolve(args.projectDir, image.build.dockerfile),
              args: image.build.args,
            },
            skipPush: true,
          },
          { parent: this },
        );
        // For a local build repoDigest is the image ID: a rebuild replaces the containers.
        this.refs[key] = built.repoDigest;
      } else if (image.pull) {
        this.refs[key] = new docker.RemoteImage(
          resourceName,
          { name: image.ref, keepLocally: true },
          { parent: this },
        ).imageId;
      } else {
        this.refs[key] = pulumi.output(image.ref);
      }
    }
    this.registerOutputs({ refs: this.refs });
  }
}
