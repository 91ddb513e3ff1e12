import { describe, expect, it } from "vitest";
import { parseImageReference } from "./image-ref";

describe("image references", () => {
  it.each([
    ["postgres:15", { repository: "postgres", tag: "15" }],
    ["nginxinc/nginx-unprivileged:1.28", { repository: "nginxinc/nginx-unprivileged", tag: "1.28" }],
    [
      "registry.example.com:5000/team/chatapi:1.0.0",
      { registry: "registry.example.com:5000", repository: "team/chatapi", tag: "1.0.0" },
    ],
    ["localhost/chatapi:dev-1", { registry: "localhost", repository: "chatapi", tag: "dev-1" }],
    [`redis@sha256:${"a".repeat(64)}`, { repository: "redis", digest: `sha256:${"a".repeat(64)}` }],
    [
      `redis:latest@sha256:${"b".repeat(64)}`,
      { repository: "redis", tag: "latest", digest: `sha256:${"b".repeat(64)}` },
    ],
  ])("accepts %s", (ref, parsed) => {
    expect(parseImageReference(ref)).toEqual(parsed);
  });

  it.each([
    ["redis", "no tag or digest"],
    ["redis:latest", "the tag latest is not pinned"],
    ["Redis:7", "not a valid image reference"],
    ["redis:", "not a valid image reference"],
    ["https://registry.example.com/chatapi:1", "not a valid image reference"],
    ["chatapi:has space", "not a valid image reference"],
  ])("refuses %s (%s)", (ref, error) => {
    expect(parseImageReference(ref)).toEqual({ error: expect.stringContaining(error) });
  });
});
