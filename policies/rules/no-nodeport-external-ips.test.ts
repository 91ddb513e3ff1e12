import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { kubernetesObject } from "../test/kubernetes-fixtures";
import { noNodePortExternalIps as rule } from "./no-nodeport-external-ips";

describe(rule.name, () => {
  it("passes ClusterIP, headless and the nginx LoadBalancer Services", () => {
    for (const name of ["chatapi-prod-api", "chatapi-prod-api-headless", "chatapi-prod-nginx"])
      expect(check(rule, kubernetesObject("Service", name))).toEqual([]);
  });

  it("fails NodePort, pinned node ports and externalIPs", () => {
    const bad = changed(kubernetesObject("Service", "chatapi-prod-api"), (p) => {
      p.spec.type = "NodePort";
      p.spec.ports[0].nodePort = 30080;
      p.spec.externalIPs = ["203.0.113.10"];
    });
    expect(check(rule, bad)).toEqual([
      "the Service is of type NodePort",
      "the Service pins node port 30080",
      "the Service sets externalIPs",
    ]);
  });
});
