import { describe, expect, it } from "vitest";
import { criImageRefs, normalizeRef } from "./images";

describe("normalizeRef", () => {
  it("names an image the way containerd's CRI does", () => {
    expect(normalizeRef("nginx")).toBe("docker.io/library/nginx:latest");
    expect(normalizeRef("nginx:1.25")).toBe("docker.io/library/nginx:1.25");
    expect(normalizeRef("chatapi-local/chatapi:1.0.1")).toBe("docker.io/chatapi-local/chatapi:1.0.1");
    expect(normalizeRef("chatapi-local/chatapi")).toBe("docker.io/chatapi-local/chatapi:latest");
    expect(normalizeRef("registry.example.com/team/app:2")).toBe("registry.example.com/team/app:2");
    expect(normalizeRef("localhost:5000/app")).toBe("localhost:5000/app:latest");
    expect(normalizeRef("localhost/app@sha256:abc")).toBe("localhost/app@sha256:abc");
  });
});

describe("criImageRefs", () => {
  it("pairs each image ID with each of its tags", () => {
    const json = JSON.stringify({
      images: [
        { id: "sha256:1", repoTags: ["docker.io/a/b:1", "docker.io/a/b:latest"] },
        { id: "sha256:2", repoTags: [] },
        { id: "sha256:3" },
      ],
    });
    expect([...criImageRefs(json)]).toEqual(["sha256:1 docker.io/a/b:1", "sha256:1 docker.io/a/b:latest"]);
  });
});
