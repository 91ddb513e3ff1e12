// The in-stack Redis Cluster of the fan-out (fanoutCluster.mode container) as the plan has it:
// what both targets build from. Its scripts run for real in test/docker/fanout-cluster.docker.test.ts.
import { describe, expect, it } from "vitest";
import { planWith as planFor } from "../../../test/support/stack-plans";
import { dockerInstances } from "../names";
import type { DeploymentPlan, Role } from "../types";

const workload = (plan: DeploymentPlan, role: Role) => plan.workloads.find((w) => w.role === role);
const inStack = (cluster: object = {}) => ({
  "chatapi:fanoutCluster": JSON.stringify({ mode: "container", ...cluster }),
});

describe("the fan-out's Redis Cluster in the stack", () => {
  it("is not there by default: the API's fan-out uses the stack's Redis", () => {
    for (const stack of ["local", "prod"]) {
      const plan = planFor(stack);
      expect(workload(plan, "redis-cluster")).toBeUndefined();
      expect(workload(plan, "redis-cluster-init")).toBeUndefined();
      expect(workload(plan, "api")!.env).not.toHaveProperty("FANOUT_REDIS_CLUSTER_NODES");
      expect(plan.secrets.map((s) => s.name)).not.toContain("redis_cluster_conf");
    }
  });

  it("runs shards × (1 + replicasPerShard) nodes of the stack's Redis image, each with a volume of its own", () => {
    const plan = planFor("local", inStack());
    const nodes = workload(plan, "redis-cluster")!;
    expect(nodes.kind).toBe("service");
    expect(nodes.replicas).toBe(6);
    expect(nodes.image).toBe("redis");
    expect(nodes.ports.map((p) => p.containerPort)).toEqual([6379, 16379]);
    expect(nodes.files.map((f) => f.path)).toEqual([
      "/run/secrets/redis_cluster_conf",
      "/run/secrets/redis_cluster_password",
    ]);
    expect(nodes.mounts).toEqual([{ volume: "redis-cluster-data", path: "/data", readOnly: false }]);
    expect(plan.volumes.find((v) => v.name === "redis-cluster-data")).toMatchObject({
      perInstance: true,
      retain: true,
      sizeBytes: 64 * 1024 ** 2,
    });
    expect(nodes.security.user).toBe("999:999");
    expect(
      workload(planFor("prod", inStack({ shards: 4, replicasPerShard: 0 })), "redis-cluster")!.replicas,
    ).toBe(4);
    // Docker: numbered containers on a network of their own, all answering to the shared name.
    const instances = dockerInstances(nodes);
    expect(instances.map((i) => i.shortName)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `redis-cluster-${n}`));
    for (const instance of instances) expect(Object.keys(instance.aliases)).toEqual(["fanout"]);
    for (const instance of instances) expect(instance.aliases.fanout).toContain("redis-cluster");
    expect(plan.networks.find((n) => n.name === "fanout")).toMatchObject({ internal: true });
    expect(planFor("local").networks.map((n) => n.name)).not.toContain("fanout");
  });

  it("starts each node announcing its own address, and meets the others again after a restart", () => {
    const [shell, flag, script] = workload(planFor("local", inStack()), "redis-cluster")!.command as string[];
    expect([shell, flag]).toEqual(["sh", "-c"]);
    expect(script).toContain(`ip="$(hostname -i | awk '{print $1}')"`);
    expect(script).toContain('exec redis-server /run/secrets/redis_cluster_conf --cluster-announce-ip "$ip"');
    expect(script).toContain("getent ahostsv4 redis-cluster");
    expect(script).toContain('cluster meet "$peer" 6379');
    // The password reaches redis-cli through REDISCLI_AUTH, never its command line.
    expect(script).toContain('export REDISCLI_AUTH="$(cat /run/secrets/redis_cluster_password)"');
    expect(script).not.toMatch(/redis-cli[^\n]* -a /);
  });

  it("forms the cluster in a job the API waits for, with the replicas asked for", () => {
    const plan = planFor("local", inStack({ replicasPerShard: 2 }));
    const form = workload(plan, "redis-cluster-init")!;
    expect(form.kind).toBe("job");
    expect(form.dependsOn).toEqual([{ role: "redis-cluster", condition: "healthy" }]);
    const script = (form.command as string[])[2]!;
    expect(script).toContain("want=9");
    expect(script).toContain("--cluster-replicas 2 --cluster-yes");
    expect(script).toContain("cluster_slots_assigned:16384");
    expect(form.files.map((f) => f.path)).toEqual(["/run/secrets/redis_cluster_password"]);
    const api = workload(plan, "api")!;
    expect(api.dependsOn).toContainEqual({ role: "redis-cluster-init", condition: "completed" });
    const roles = plan.workloads.map((w) => w.role);
    expect(roles.indexOf("redis-cluster")).toBeLessThan(roles.indexOf("redis-cluster-init"));
    expect(roles.indexOf("redis-cluster-init")).toBeLessThan(roles.indexOf("api"));
  });

  it("gives the API (only) the cluster's name and its password; the worker neither", () => {
    const plan = planFor("local", inStack());
    const api = workload(plan, "api")!;
    expect(api.env.FANOUT_REDIS_CLUSTER_NODES).toBe("redis-cluster:6379");
    expect(api.files).toContainEqual({
      path: "/run/secrets/redis_cluster_password",
      source: { secret: "redis_cluster_password" },
      env: "FANOUT_REDIS_CLUSTER_PASSWORD_FILE",
    });
    const worker = workload(plan, "worker")!;
    expect(Object.keys(worker.env).some((k) => k.startsWith("FANOUT_"))).toBe(false);
    expect(worker.files.map((f) => f.path)).not.toContain("/run/secrets/redis_cluster_password");
  });

  it("generates the password unless given, and writes it into redis.conf as requirepass and masterauth", () => {
    const plan = planFor("local", inStack());
    expect(plan.secrets.find((s) => s.name === "redis_cluster_password")!.source).toEqual({
      kind: "config-or-random",
      key: "redisClusterPassword",
      length: 32,
    });
    const conf = plan.secrets.find((s) => s.name === "redis_cluster_conf")!.source;
    if (conf.kind !== "template") throw new Error("redis_cluster_conf is not a template");
    const text = conf.parts.map((p) => (typeof p === "string" ? p : `<${p.secret}>`)).join("");
    expect(text).toContain("cluster-enabled yes\ncluster-config-file /data/nodes.conf\n");
    expect(text).toContain("requirepass <redis_cluster_password>\nmasterauth <redis_cluster_password>\n");
    expect(text).toContain('appendonly no\nsave ""\n');
    expect(text).toContain("cluster-require-full-coverage no\n");
    // 75 % of the 256 MiB limit.
    expect(text).toContain(`maxmemory ${Math.floor(256 * 1024 ** 2 * 0.75)}\n`);
  });

  it("allows the API and the job to reach the nodes, and the nodes each other on both ports", () => {
    const flows = planFor("prod", inStack()).flows.filter(
      (f) => f.to === "redis-cluster" || f.from === "redis-cluster",
    );
    expect(flows.map((f) => `${f.from}->${f.to}:${f.port}`).sort()).toEqual([
      "api->redis-cluster:6379",
      "redis-cluster->redis-cluster:16379",
      "redis-cluster->redis-cluster:6379",
      "redis-cluster-init->redis-cluster:6379",
    ]);
    // Nothing about it leaves the stack.
    expect(
      planFor("prod", inStack()).flows.filter((f) => f.to === "internet" && /Cluster/.test(f.purpose)),
    ).toEqual([]);
  });

  it("seeds the API with an external cluster's own nodes, and needs no job then", () => {
    const nodes = ["10.0.0.11:6379", "10.0.0.12:7000"];
    const plan = planFor("prod", { "chatapi:fanoutCluster": JSON.stringify({ mode: "external", nodes }) });
    expect(workload(plan, "api")!.env.FANOUT_REDIS_CLUSTER_NODES).toBe(nodes.join(","));
    expect(workload(plan, "redis-cluster-init")).toBeUndefined();
    expect(
      plan.flows
        .filter((f) => f.from === "api" && f.to === "internet" && /Cluster/.test(f.purpose))
        .map((f) => f.port),
    ).toEqual([6379, 7000]);
  });
});
