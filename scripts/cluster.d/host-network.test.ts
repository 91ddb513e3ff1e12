import { describe, expect, it } from "vitest";
import {
  firstHostAddress,
  forwardJumpRemoval,
  forwardRules,
  routeSource,
  splitRule,
  sweepPlan,
  userChains,
} from "./host-network";

describe("the FORWARD rules up adds (Docker's FORWARD policy is DROP)", () => {
  it("accept the pod CIDR both ways in CHATAPI-FORWARD, jumped to first in FORWARD; each checked before it is added", () => {
    const jump = "FORWARD -m comment --comment chatapi local cluster pod traffic -j CHATAPI-FORWARD";
    const accept = (flag: string) => `CHATAPI-FORWARD ${flag} 10.244.0.0/16 -j ACCEPT`;
    expect(forwardRules("10.244.0.0/16").map((r) => [r.check.join(" "), r.add.join(" ")])).toEqual([
      ["-S CHATAPI-FORWARD", "-N CHATAPI-FORWARD"],
      [`-C ${accept("-s")}`, `-A ${accept("-s")}`],
      [`-C ${accept("-d")}`, `-A ${accept("-d")}`],
      [`-C ${jump}`, `-I ${jump.replace("FORWARD ", "FORWARD 1 ")}`],
    ]);
    expect(forwardJumpRemoval()).toEqual(["-D", ...forwardRules("x")[3]!.check.slice(1)]);
  });
});

describe("splitRule", () => {
  it("splits iptables -S output like the shell would, quotes and escapes included", () => {
    expect(splitRule('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')).toEqual(
      ["-A", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"],
    );
    expect(splitRule('-A X -m comment --comment "say \\"hi\\"" -j Y')).toEqual([
      "-A",
      "X",
      "-m",
      "comment",
      "--comment",
      'say "hi"',
      "-j",
      "Y",
    ]);
    expect(splitRule('-A X --comment "" -j Y')).toEqual(["-A", "X", "--comment", "", "-j", "Y"]);
  });
});

const nat = [
  "-P PREROUTING ACCEPT",
  "-N DOCKER",
  "-N KUBE-SERVICES",
  "-N KUBE-SVC-ABC",
  "-N KUBE-OLD",
  "-N CNI-1234",
  '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  '-A POSTROUTING -s 10.244.0.0/24 -m comment --comment "name: \\"chatapi\\" id: \\"x\\"" -j CNI-1234',
  "-A POSTROUTING -j KUBE-OLD",
  "-A KUBE-SERVICES -d 10.96.0.10/32 -j KUBE-SVC-ABC",
  "-A CNI-1234 -d 10.244.0.0/24 -j ACCEPT",
].join("\n");

describe("sweepPlan (what down removes from one table)", () => {
  it("removes jumps into our chains, then flushes all our chains before deleting any; leaves Docker's and older chains", () => {
    expect(sweepPlan("4", "nat", nat, new Set(["4 nat KUBE-OLD"]))).toEqual([
      [
        "-t",
        "nat",
        "-D",
        "PREROUTING",
        "-m",
        "comment",
        "--comment",
        "kubernetes service portals",
        "-j",
        "KUBE-SERVICES",
      ],
      [
        "-t",
        "nat",
        "-D",
        "POSTROUTING",
        "-s",
        "10.244.0.0/24",
        "-m",
        "comment",
        "--comment",
        'name: "chatapi" id: "x"',
        "-j",
        "CNI-1234",
      ],
      ["-t", "nat", "-F", "KUBE-SERVICES"],
      ["-t", "nat", "-F", "KUBE-SVC-ABC"],
      ["-t", "nat", "-F", "CNI-1234"],
      ["-t", "nat", "-X", "KUBE-SERVICES"],
      ["-t", "nat", "-X", "KUBE-SVC-ABC"],
      ["-t", "nat", "-X", "CNI-1234"],
    ]);
  });

  it("matches chains that were there before by family and table", () => {
    const plan = sweepPlan("6", "nat", nat, new Set(["4 nat KUBE-OLD", "6 filter KUBE-SERVICES"]));
    expect(plan).toContainEqual(["-t", "nat", "-X", "KUBE-OLD"]);
    expect(plan).toContainEqual(["-t", "nat", "-X", "KUBE-SERVICES"]);
  });

  it("does nothing to a table with nothing of ours", () => {
    expect(
      sweepPlan("4", "raw", "-P PREROUTING ACCEPT\n-N DOCKER\n-A PREROUTING -j DOCKER\n", new Set()),
    ).toEqual([]);
    expect(userChains(nat)).toEqual(["DOCKER", "KUBE-SERVICES", "KUBE-SVC-ABC", "KUBE-OLD", "CNI-1234"]);
  });
});

describe("the node IP", () => {
  it("is the source address of the default route", () => {
    expect(routeSource("1.1.1.1 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0 \\    cache ")).toBe("192.0.2.2");
    expect(routeSource("RTNETLINK answers: Network is unreachable")).toBeUndefined();
  });

  it("else the first global address not on Docker's, a veth or our bridge", () => {
    const addresses = [
      "5: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever",
      "206: chatapi0    inet 10.244.0.1/24 brd 10.244.0.255 scope global chatapi0\\       valid_lft forever",
      "533: br-4d35fce08de4    inet 192.168.208.1/20 scope global br-4d35fce08de4",
      "4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever",
    ].join("\n");
    expect(firstHostAddress(addresses, "chatapi0")).toBe("192.0.2.2");
    expect(firstHostAddress(addresses.split("\n").slice(0, 3).join("\n"), "chatapi0")).toBeUndefined();
  });
});
