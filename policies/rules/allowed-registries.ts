import { imageUses } from "../core/image-refs";
import { parseImageRef } from "../core/images";
import type { ResourceRule } from "../core/types";

interface Config {
  allowedRegistries: string[];
}

/** `registry.example.com` allows that host; `ghcr.io/acme` allows that path prefix on it. */
function allowed(ref: string, registries: string[]): boolean {
  const parsed = parseImageRef(ref);
  if (!parsed) return false;
  const full = `${parsed.registry}/${parsed.repository}`;
  return registries.some((entry) => {
    const prefix = entry.replace(/\/+$/, "");
    return parsed.registry === prefix || full.startsWith(`${prefix}/`);
  });
}

export const allowedRegistries: ResourceRule<Config> = {
  kind: "resource",
  name: "allowed-registries",
  description: "Images come from the registries this organisation trusts (advisory).",
  enforcementLevel: "advisory",
  severity: "medium",
  remediation:
    "Mirror the image into an allowed registry and point chatapi:images.* at it, or add the registry to this rule's allowedRegistries in the policy config.",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      allowedRegistries: {
        type: "array",
        items: { type: "string" },
        default: ["docker.io"],
        description:
          "Registry hosts (registry.example.com) or host/path prefixes (ghcr.io/acme); images without a registry are docker.io.",
      },
    },
    defaults: { allowedRegistries: ["docker.io"] },
  },
  validate(subject, config) {
    return imageUses(subject)
      .filter((use) => use.ref && !use.localBuild && !allowed(use.ref, config.allowedRegistries))
      .map(
        (use) =>
          `${use.where}: image ${JSON.stringify(use.ref)} is not from an allowed registry (${config.allowedRegistries.join(", ")})`,
      );
  },
};
