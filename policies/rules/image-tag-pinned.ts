import { imageUses } from "../core/image-refs";
import { unpinnedReason } from "../core/images";
import type { ResourceRule } from "../core/types";

export const imageTagPinned: ResourceRule = {
  kind: "resource",
  name: "image-tag-pinned",
  description: "Images are pinned to a version tag or a digest, never latest or untagged.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediation:
    "Name an exact version (postgres:15-bookworm, registry.example.com/chatapi:1.0.0) or a digest (@sha256:...) in the stack config's chatapi:images.* keys.",
  targets: ["kubernetes", "docker"],
  validate(subject) {
    return imageUses(subject).flatMap((use) => {
      if (!use.ref) return [`${use.where} names no image`];
      const reason = unpinnedReason(use.ref);
      return reason ? [`${use.where}: image ${JSON.stringify(use.ref)} ${reason}`] : [];
    });
  },
};
