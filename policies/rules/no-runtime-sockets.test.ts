import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { noRuntimeSockets as rule } from "./no-runtime-sockets";

describe(rule.name, () => {
  it("passes workloads without runtime sockets", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("fails a pod mounting the containerd socket or the folder holding the Docker socket", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.volumes.push(
        { name: "containerd", hostPath: { path: "/run/containerd/containerd.sock", type: "Socket" } },
        { name: "run", hostPath: { path: "/var/run" } },
      );
    });
    expect(check(rule, bad)).toEqual([
      'volume "containerd" exposes the runtime socket /run/containerd/containerd.sock',
      'volume "run" exposes /var/run, which holds /var/run/docker.sock',
    ]);
  });

  it("fails a Docker container bound to the engine's socket", () => {
    const bad = container("api", {
      volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true }],
    });
    expect(check(rule, bad)).toEqual([
      "the bind mount at /var/run/docker.sock exposes the runtime socket /var/run/docker.sock",
    ]);
  });
});
