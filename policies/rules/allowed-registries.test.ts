import { describe, expect, it } from "vitest";
import { check } from "../test/check";
import { builtImage, remoteImage } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { allowedRegistries as rule } from "./allowed-registries";

describe(rule.name, () => {
  it("is advisory", () => expect(rule.enforcementLevel).toBe("advisory"));

  it("passes Docker Hub images by default and locally built image names", () => {
    expect(check(rule, remoteImage("postgres:15-bookworm"))).toEqual([]);
    expect(check(rule, remoteImage("nginxinc/nginx-unprivileged:1.28"))).toEqual([]);
    expect(check(rule, builtImage("chatapi:1.0.0", "node:20-bookworm-slim"))).toEqual([]);
  });

  it("reports images from other registries until the registry is allowed", () => {
    expect(check(rule, deployment("api"))).toEqual([
      'container "api": image "registry.example.com/chatapi:1.0.0" is not from an allowed registry (docker.io)',
    ]);
    expect(check(rule, deployment("api"), { allowedRegistries: ["registry.example.com"] })).toEqual([]);
  });

  it("matches host/path prefixes, not look-alike hosts", () => {
    const config = { allowedRegistries: ["ghcr.io/acme"] };
    expect(check(rule, remoteImage("ghcr.io/acme/redis:7"), config)).toEqual([]);
    expect(check(rule, remoteImage("ghcr.io/acme-evil/redis:7"), config)).toEqual([
      'name: image "ghcr.io/acme-evil/redis:7" is not from an allowed registry (ghcr.io/acme)',
    ]);
    expect(check(rule, builtImage("chatapi:1.0.0", "quay.io/node:20"), config)).toEqual([
      'build argument BASE_IMAGE: image "quay.io/node:20" is not from an allowed registry (ghcr.io/acme)',
    ]);
  });
});
