// The host firewall container's exemption from run-as-non-root, no-host-namespaces and
// drop-all-capabilities holds for exactly its reviewed shape: anything more, and the rules apply.
import { describe, expect, it } from "vitest";
import { check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { dropAllCapabilities } from "../rules/drop-all-capabilities";
import { noHostNamespaces } from "../rules/no-host-namespaces";
import { runAsNonRoot } from "../rules/run-as-non-root";
import { isHostFirewall } from "./docker";

/** The firewall container as the Docker target creates it. */
const firewall = (changes: Record<string, unknown> = {}) =>
  container("firewall", {
    user: "0:0",
    entrypoints: ["bash", "/etc/chatapi/firewall/firewall.sh"],
    command: ["run"],
    networkMode: "host",
    networksAdvanced: [],
    capabilities: { drops: ["ALL"], adds: ["NET_ADMIN", "NET_RAW"] },
    volumes: [
      {
        volumeName: "chatapi-local-firewall-etc-chatapi-firewall",
        containerPath: "/etc/chatapi/firewall",
        readOnly: true,
      },
    ],
    ...changes,
  });
const violations = (subject: ReturnType<typeof firewall>) => [
  ...check(runAsNonRoot, subject),
  ...check(noHostNamespaces, subject),
  ...check(dropAllCapabilities, subject),
];

describe("the host firewall container", () => {
  it("in its reviewed shape: exempt from the three rules", () => {
    expect(isHostFirewall(firewall())).toBe(true);
    expect(violations(firewall())).toEqual([]);
  });

  it.each([
    [
      "another capability",
      { capabilities: { drops: ["ALL"], adds: ["NET_ADMIN", "NET_RAW", "SYS_ADMIN"] } },
      "SYS_ADMIN (allowed: none)",
    ],
    [
      "capabilities not dropped",
      { capabilities: { drops: [], adds: ["NET_ADMIN"] } },
      "does not drop ALL capabilities",
    ],
    ["privileged", { privileged: true }, "runs as root"],
    ["a writable root filesystem", { readOnly: false }, "runs as root"],
    ["the host's PID namespace too", { pidMode: "host" }, "pidMode: host"],
    ["a published port", { ports: [{ internal: 22, external: 22 }] }, "runs as root"],
    [
      "a host folder",
      { volumes: [{ hostPath: "/etc", containerPath: "/host-etc", readOnly: true }] },
      "runs as root",
    ],
    ["no no-new-privileges", { securityOpts: [] }, "runs as root"],
  ])("with %s: judged like any container", (_what, changes, expected) => {
    const subject = firewall(changes);
    expect(isHostFirewall(subject)).toBe(false);
    expect(violations(subject).join("\n")).toContain(expected);
  });

  it("the label alone exempts nothing: an app container labelled firewall is still root on the host network", () => {
    const labelled = container("api", {
      user: "0:0",
      networkMode: "host",
      labels: [{ label: "chatapi.role", value: "firewall" }],
    });
    expect(isHostFirewall(labelled)).toBe(false);
    expect(violations(labelled)).toEqual([
      'the container runs as root (user "0:0")',
      "the container shares a host namespace (networkMode: host)",
    ]);
  });
});
