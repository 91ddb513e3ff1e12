import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { builtImage, container, remoteImage } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { imageTagPinned as rule } from "./image-tag-pinned";

describe(rule.name, () => {
  it("passes version tags, digests and Docker image IDs", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, remoteImage("postgres:15-bookworm"))).toEqual([]);
    expect(check(rule, remoteImage(`redis@sha256:${"0".repeat(64)}`))).toEqual([]);
    expect(check(rule, builtImage("chatapi:1.0.0", "node:20-bookworm-slim"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
    expect(check(rule, container("postgres", { image: "chatapi-local/postgres:15" }))).toEqual([]);
  });

  it("fails latest and untagged Kubernetes images", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].image = "registry.example.com/chatapi:latest";
      p.spec.template.spec.initContainers = [{ name: "wait", image: "busybox" }];
    });
    expect(check(rule, bad)).toEqual([
      'container "api": image "registry.example.com/chatapi:latest" uses the tag latest',
      'init container "wait": image "busybox" has no tag (an untagged image means latest)',
    ]);
  });

  it("fails unpinned pulls, builds from an unpinned base and containers naming an unpinned image", () => {
    expect(check(rule, remoteImage("nginx:latest"))).toEqual([
      'name: image "nginx:latest" uses the tag latest',
    ]);
    expect(check(rule, builtImage("chatapi:1.0.0", "node"))).toEqual([
      'build argument BASE_IMAGE: image "node" has no tag (an untagged image means latest)',
    ]);
    expect(check(rule, container("redis", { image: "redis" }))).toEqual([
      'image: image "redis" has no tag (an untagged image means latest)',
    ]);
  });
});
