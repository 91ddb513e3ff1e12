import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { noHostPaths as rule } from "./no-host-paths";

describe(rule.name, () => {
  it("passes PVC/emptyDir pods and Docker volumes or a dedicated backup folder", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    const backups = { hostPath: "/opt/chatapi/backups", containerPath: "/backups", readOnly: false };
    expect(check(rule, container("backup", { volumes: [backups] }))).toEqual([]);
  });

  it("fails any hostPath volume in a pod", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.volumes.push({ name: "logs", hostPath: { path: "/var/log/chatapi/" } });
    });
    expect(check(rule, bad)).toEqual(['volume "logs" mounts the host path /var/log/chatapi (hostPath)']);
  });

  it("fails Docker bind mounts of system folders and host devices", () => {
    const bad = container("api", {
      volumes: [
        { hostPath: "/etc", containerPath: "/host-etc", readOnly: true },
        { hostPath: "/", containerPath: "/host", readOnly: true },
      ],
      mounts: [{ type: "bind", source: "/proc/", target: "/host-proc" }],
      devices: [{ hostPath: "/dev/sda" }],
    });
    expect(check(rule, bad)).toEqual([
      "the bind mount at /host-etc bind-mounts the host's /etc",
      "the bind mount at /host bind-mounts the host's /",
      "the bind mount at /host-proc bind-mounts the host's /proc",
      "the container gets the host device /dev/sda (devices)",
    ]);
  });
});
