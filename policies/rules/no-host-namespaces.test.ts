import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { noHostNamespaces as rule } from "./no-host-namespaces";

describe(rule.name, () => {
  it("passes hardened workloads", () => {
    expect(check(rule, deployment("worker"))).toEqual([]);
    expect(check(rule, container("worker"))).toEqual([]);
  });

  it("fails pods on the host's network, PID and IPC namespaces", () => {
    const bad = changed(deployment("worker"), (p) => {
      Object.assign(p.spec.template.spec, { hostNetwork: true, hostPID: true, hostIPC: true });
    });
    expect(check(rule, bad)).toEqual([
      "the pod shares a host namespace (hostNetwork: true)",
      "the pod shares a host namespace (hostPID: true)",
      "the pod shares a host namespace (hostIPC: true)",
    ]);
  });

  it("fails Docker containers in host network or PID mode", () => {
    expect(check(rule, container("api", { networkMode: "host", pidMode: "host" }))).toEqual([
      "the container shares a host namespace (networkMode: host)",
      "the container shares a host namespace (pidMode: host)",
    ]);
  });
});
