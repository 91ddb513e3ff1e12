import { describe, expect, it } from "vitest";
import { type LbService, allocate, lbPool, lbService, statusPatch } from "./lb-allocator";

const pool = lbPool("10.97.0.0/24");
let n = 0;
const svc = (name: string, extra: Partial<LbService> = {}): LbService => ({
  key: `ns/${name}`,
  type: "LoadBalancer",
  created: `2026-01-01T00:00:${String(n++).padStart(2, "0")}Z`,
  ingressIps: [],
  ...extra,
});

describe("lbPool", () => {
  it("holds the usable addresses of the CIDR, in order", () => {
    expect(pool.addresses).toHaveLength(254);
    expect(pool.addresses[0]).toBe("10.97.0.1");
    expect(pool.addresses.at(-1)).toBe("10.97.0.254");
    expect(lbPool("192.168.4.8/30").addresses).toEqual(["192.168.4.9", "192.168.4.10"]);
    expect(lbPool("10.97.0.77/24").addresses[0]).toBe("10.97.0.1");
  });

  it("refuses what is not an IPv4 network of /16 to /30, naming the variable", () => {
    for (const bad of ["10.97.0.0", "10.97.0.0/31", "10.97.0.0/8", "10.297.0.0/24", "fd00::/64"])
      expect(() => lbPool(bad)).toThrow(
        `CHATAPI_LB_CIDR must be an IPv4 network of /16 to /30 (like 10.97.0.0/24), not '${bad}'`,
      );
  });
});

describe("allocate", () => {
  it("gives each new LoadBalancer Service the lowest free address, oldest first", () => {
    const b = svc("b");
    const a = svc("a");
    expect(allocate([a, b], pool)).toEqual([
      { kind: "assign", key: "ns/b", ip: "10.97.0.1" },
      { kind: "assign", key: "ns/a", ip: "10.97.0.2" },
    ]);
  });

  it("changes nothing once every Service has its address (applying twice is a no-op)", () => {
    const services = [svc("a", { ingressIps: ["10.97.0.1"] }), svc("b", { ingressIps: ["10.97.0.7"] })];
    expect(allocate(services, pool)).toEqual([]);
  });

  it("reuses a released address: a deleted Service's address goes to the next new one", () => {
    const kept = svc("kept", { ingressIps: ["10.97.0.2"] });
    expect(allocate([kept, svc("new")], pool)).toEqual([{ kind: "assign", key: "ns/new", ip: "10.97.0.1" }]);
  });

  it("leaves a younger Service its address when an older one needs a new address", () => {
    const older = svc("older");
    const younger = svc("younger", { ingressIps: ["10.97.0.1"] });
    expect(allocate([older, younger], pool)).toEqual([{ kind: "assign", key: "ns/older", ip: "10.97.0.2" }]);
  });

  it("settles two Services holding the same address: the older keeps it, the younger moves", () => {
    const older = svc("older", { ingressIps: ["10.97.0.5"] });
    const younger = svc("younger", { ingressIps: ["10.97.0.5"] });
    expect(allocate([younger, older], pool)).toEqual([
      { kind: "assign", key: "ns/younger", ip: "10.97.0.1" },
    ]);
  });

  it("moves a Service whose address is outside the pool (e.g. after CHATAPI_LB_CIDR changed)", () => {
    expect(allocate([svc("a", { ingressIps: ["10.98.0.1"] })], pool)).toEqual([
      { kind: "assign", key: "ns/a", ip: "10.97.0.1" },
    ]);
  });

  it("gives a Service the address it asks for (spec.loadBalancerIP) when free, and says why not otherwise", () => {
    const holder = svc("holder", { ingressIps: ["10.97.0.9"] });
    const asks = svc("asks", { requestedIp: "10.97.0.20" });
    const taken = svc("taken", { requestedIp: "10.97.0.9" });
    const outside = svc("outside", { requestedIp: "192.0.2.1" });
    expect(allocate([holder, asks, taken, outside], pool)).toEqual([
      { kind: "assign", key: "ns/asks", ip: "10.97.0.20" },
      {
        kind: "conflict",
        key: "ns/taken",
        reason: "spec.loadBalancerIP 10.97.0.9 is held by an older Service",
      },
      { kind: "conflict", key: "ns/outside", reason: "spec.loadBalancerIP 192.0.2.1 is not in 10.97.0.0/24" },
    ]);
  });

  it("moves a Service to the address it asks for when it holds another", () => {
    expect(allocate([svc("a", { ingressIps: ["10.97.0.1"], requestedIp: "10.97.0.3" })], pool)).toEqual([
      { kind: "assign", key: "ns/a", ip: "10.97.0.3" },
    ]);
  });

  it("reports a full pool for each Service it cannot serve", () => {
    const small = lbPool("10.97.0.0/30");
    const services = [svc("a"), svc("b"), svc("c")];
    expect(allocate(services, small)).toEqual([
      { kind: "assign", key: "ns/a", ip: "10.97.0.1" },
      { kind: "assign", key: "ns/b", ip: "10.97.0.2" },
      { kind: "conflict", key: "ns/c", reason: "no free address left in 10.97.0.0/30" },
    ]);
  });

  it("releases the pool address of a Service that is no longer of type LoadBalancer", () => {
    const was = svc("was", { type: "ClusterIP", ingressIps: ["10.97.0.1"] });
    expect(allocate([was, svc("new")], pool)).toEqual([
      { kind: "release", key: "ns/was", ip: "10.97.0.1" },
      { kind: "assign", key: "ns/new", ip: "10.97.0.1" },
    ]);
  });

  it("leaves alone Services of another load-balancer class and other types", () => {
    const other = svc("other", { loadBalancerClass: "example.com/lb" });
    const plain = svc("plain", { type: "ClusterIP" });
    expect(allocate([other, plain], pool)).toEqual([]);
  });
});

describe("lbService and statusPatch", () => {
  it("read a Service object from the API", () => {
    expect(
      lbService({
        metadata: { namespace: "app", name: "web", creationTimestamp: "2026-01-01T00:00:00Z" },
        spec: { type: "LoadBalancer", loadBalancerIP: "10.97.0.4" },
        status: { loadBalancer: { ingress: [{ ip: "10.97.0.4" }, {}] } },
      }),
    ).toEqual({
      key: "app/web",
      type: "LoadBalancer",
      created: "2026-01-01T00:00:00Z",
      loadBalancerClass: undefined,
      requestedIp: "10.97.0.4",
      ingressIps: ["10.97.0.4"],
    });
  });

  it("write the status Pulumi and kube-proxy read (ipMode VIP), or clear it", () => {
    expect(statusPatch({ kind: "assign", key: "a/b", ip: "10.97.0.1" })).toEqual({
      status: { loadBalancer: { ingress: [{ ip: "10.97.0.1", ipMode: "VIP" }] } },
    });
    expect(statusPatch({ kind: "release", key: "a/b", ip: "10.97.0.1" })).toEqual({
      status: { loadBalancer: { ingress: null } },
    });
    expect(statusPatch({ kind: "conflict", key: "a/b", reason: "x" })).toBeUndefined();
  });
});
