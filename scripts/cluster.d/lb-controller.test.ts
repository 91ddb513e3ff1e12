// The controller's event handling against an in-memory stand-in for the API (list, watch events,
// status patches); the real API server, its restarts included, is the cluster tier's
// (test/local-cluster.cluster.test.ts).
import { describe, expect, it } from "vitest";
import { clusterConfig, readVersions } from "./config";
import { LbController } from "./lb-controller";

const config = clusterConfig({ CHATAPI_CACHE: "/c", CHATAPI_LB_CIDR: "10.97.0.0/30" }, readVersions());
const service = (name: string, created: string, ip?: string) => ({
  metadata: { namespace: "ns", name, creationTimestamp: created },
  spec: { type: "LoadBalancer" },
  status: { loadBalancer: ip ? { ingress: [{ ip }] } : {} },
});

/** The API as the controller sees it through kubectl: the list and the status patches. */
function fakeApi(initial: ReturnType<typeof service>[]) {
  const objects = new Map(initial.map((s) => [s.metadata.name, s]));
  const patches: string[] = [];
  const kubectl = async (args: string[]) => {
    if (args[0] === "get")
      return JSON.stringify({ metadata: { resourceVersion: "7" }, items: [...objects.values()] });
    const name = args[4]!;
    const patch = JSON.parse(args[args.indexOf("-p") + 1]!) as { status: object };
    patches.push(`${name} ${JSON.stringify(patch)}`);
    const updated = { ...objects.get(name)!, status: patch.status } as ReturnType<typeof service>;
    objects.set(name, updated);
    return JSON.stringify(updated);
  };
  return { kubectl, patches };
}

describe("LbController", () => {
  it("lists, gives addresses, and after its own patches changes nothing more", async () => {
    const api = fakeApi([
      service("a", "2026-01-01T00:00:01Z"),
      service("b", "2026-01-01T00:00:00Z", "10.97.0.1"),
    ]);
    const controller = new LbController(config, api.kubectl);
    expect(await controller.list()).toBe("7");
    await controller.reconcile();
    expect(api.patches).toEqual([
      'a {"status":{"loadBalancer":{"ingress":[{"ip":"10.97.0.2","ipMode":"VIP"}]}}}',
    ]);
    expect(await controller.reconcile()).toEqual([]);
  });

  it("follows watch events: a deleted Service's address goes to the next one; a full pool is reported once", async () => {
    const api = fakeApi([
      service("a", "2026-01-01T00:00:00Z", "10.97.0.1"),
      service("b", "2026-01-01T00:00:01Z", "10.97.0.2"),
    ]);
    const controller = new LbController(config, api.kubectl);
    await controller.list();
    controller.apply({ type: "ADDED", object: service("c", "2026-01-01T00:00:02Z") });
    expect(await controller.reconcile()).toEqual([
      { kind: "conflict", key: "ns/c", reason: "no free address left in 10.97.0.0/30" },
    ]);
    controller.apply({ type: "DELETED", object: service("a", "2026-01-01T00:00:00Z", "10.97.0.1") });
    await controller.reconcile();
    expect(api.patches).toEqual([
      'c {"status":{"loadBalancer":{"ingress":[{"ip":"10.97.0.1","ipMode":"VIP"}]}}}',
    ]);
  });

  it("ends the watch on an ERROR event (e.g. 410 Gone), so that it lists again", async () => {
    const controller = new LbController(config, fakeApi([]).kubectl);
    expect(() =>
      controller.apply({
        type: "ERROR",
        object: { metadata: { namespace: "", name: "" }, code: 410, message: "too old resource version" },
      }),
    ).toThrow("watch error 410: too old resource version");
  });
});
