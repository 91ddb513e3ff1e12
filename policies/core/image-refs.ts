// Every image reference a resource names: Kubernetes containers, the docker provider's Image
// (its name and base-image build arguments) and RemoteImage, and Docker containers that name
// an image rather than an image ID.
import { DOCKER_IMAGE, DOCKER_REMOTE_IMAGE, isContainer, neverStarted } from "./docker";
import { isImageId } from "./images";
import { describeContainer } from "./kubernetes";
import type { Subject } from "./types";
import { at, dict, known, str } from "./values";
import { kubernetesWorkload } from "./workloads";

export interface ImageUse {
  ref: string;
  /** For messages: `container "api"`, `build argument BASE_IMAGE`. */
  where: string;
  /** The name a locally built image is given (never pulled from a registry). */
  localBuild?: boolean;
}

export function imageUses(subject: Subject): ImageUse[] {
  const workload = kubernetesWorkload(subject);
  if (workload) {
    return workload.containers.flatMap((c) => {
      const ref = str(c.spec.image);
      return ref
        ? [{ ref, where: describeContainer(c) }]
        : [{ ref: "", where: `${describeContainer(c)} (no image)` }];
    });
  }
  if (subject.type === DOCKER_IMAGE) {
    const uses: ImageUse[] = [];
    const name = str(subject.props.imageName);
    if (name) uses.push({ ref: name, where: "imageName", localBuild: subject.props.skipPush === true });
    const args = dict(at(subject.props, "build", "args"));
    for (const arg of Object.keys(args)) {
      const ref = str(known(() => args[arg]));
      if (ref && /IMAGE$/i.test(arg)) uses.push({ ref, where: `build argument ${arg}` });
    }
    return uses;
  }
  if (subject.type === DOCKER_REMOTE_IMAGE) {
    const name = str(subject.props.name);
    return name ? [{ ref: name, where: "name" }] : [];
  }
  if (isContainer(subject) && !neverStarted(subject)) {
    // An image ID (what a pulled or built image resolves to) is pinned by definition; during
    // preview it is unknown, and the Image/RemoteImage resource is checked instead.
    const ref = known(() => str(subject.props.image));
    return ref && !isImageId(ref) ? [{ ref, where: "image" }] : [];
  }
  return [];
}
