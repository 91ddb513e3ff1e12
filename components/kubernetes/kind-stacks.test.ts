// The two local Kubernetes stacks under Pulumi runtime mocks, built from their stack files as
// `pulumi up` would build them, and run through the policy pack (the offline runner):
//   - Pulumi.kind.yaml, for a stock kind cluster: the StorageClass kind ships (`standard`),
//     IfNotPresent, the app image `scripts/app-image` builds (what `kind load docker-image`
//     loads) and official images, no Service that waits for a cloud load balancer;
//   - Pulumi.localcluster.yaml, for the cluster scripts/cluster builds here: its own
//     StorageClass, Never, only the chatapi-local/* images imported into the node.
// kind's node image cannot be pulled here, so this render and the policy pack are all that
// proves the kind stack on this machine (README, "kind").
import { beforeAll, describe, expect, it } from "vitest";
import { readAppVersion } from "../config/stack-file";
import { evaluate } from "../../policies/offline/evaluate";
import { type StackGraph, buildStackGraph } from "../../policies/offline/stack-graph";
import { containersOf, isKind, namespaceOf, objectName, podTemplateOf } from "../../policies/core/kubernetes";
import { at, dicts, str } from "../../policies/core/values";
import type { Subject } from "../../policies/core/types";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { repoRoot } from "../../test/support/paths";

const appVersion = readAppVersion(repoRoot);

/** Every container of every workload: "<Kind>/<name> <container>" → its spec. */
function containers(subjects: Subject[]) {
  return subjects.flatMap((s) => {
    const pod = podTemplateOf(s);
    if (!pod) return [];
    return containersOf(pod.spec).map((c) => ({ where: `${objectName(s)} ${c.name}`, spec: c.spec }));
  });
}

/** The StorageClass of every claim: PVCs and StatefulSet claim templates, by name. */
function claimClasses(subjects: Subject[]): Record<string, string | undefined> {
  const claims = subjects.flatMap((s) => {
    if (isKind(s, "PersistentVolumeClaim")) return [[objectName(s), s.props.spec] as const];
    if (isKind(s, "StatefulSet"))
      return dicts(at(s.props, "spec", "volumeClaimTemplates")).map(
        (t) => [`${objectName(s)}/${str(at(t, "metadata", "name"))}`, t.spec] as const,
      );
    return [];
  });
  return Object.fromEntries(claims.map(([name, spec]) => [name, str(at(spec, "storageClassName"))]));
}

const services = (subjects: Subject[]) =>
  Object.fromEntries(
    subjects
      .filter((s) => isKind(s, "Service"))
      .map((s) => [objectName(s), str(at(s.props, "spec", "type"))]),
  );

/** Every violation (mandatory and advisory) and every rule that threw, as text. */
function policyFindings(subjects: Subject[]): string[] {
  const evaluation = evaluate(subjects);
  return [
    ...evaluation.errors.map((e) => `${e.rule.name} threw: ${e.error}`),
    ...evaluation.violations.map(
      (v) => `${v.level} ${v.rule.name} ${v.subject?.name ?? "(stack)"}: ${v.message}`,
    ),
  ];
}

const provider = (subjects: Subject[]) => subjects.find((s) => s.type === "pulumi:providers:kubernetes");

/** The Namespace objects, and the namespaces every other Kubernetes object lands in. */
function namespaces(subjects: Subject[]) {
  const objects = subjects.filter((s) => s.type.startsWith("kubernetes:"));
  return {
    created: objects.filter((s) => isKind(s, "Namespace")).map(objectName),
    used: [...new Set(objects.filter((s) => !isKind(s, "Namespace")).map(namespaceOf))],
  };
}

/** The stack's graph under mocks, built once for the describe block it is called in. */
function stackGraph(stack: string): { graph: StackGraph } {
  const built = {} as { graph: StackGraph };
  beforeAll(async () => {
    built.graph = await buildStackGraph(stack, { projectDir: repoRoot });
  }, 60_000);
  return built;
}

describe("Pulumi.kind.yaml: a stock kind cluster", () => {
  const built = stackGraph("kind");

  it("claims kind's default StorageClass, standard, for every volume", () => {
    const classes = claimClasses(built.graph.subjects);
    expect(Object.keys(classes).sort()).toEqual([
      "chatapi-kind-backups",
      "chatapi-kind-postgres/postgres-data",
      "chatapi-kind-rabbitmq/rabbitmq-data",
      "chatapi-kind-redis/redis-data",
    ]);
    expect(new Set(Object.values(classes))).toEqual(new Set(["standard"]));
  });

  it("pulls with IfNotPresent: loaded images are used as they are, the official ones pulled once", () => {
    const all = containers(built.graph.subjects);
    expect(all.length).toBeGreaterThan(8);
    for (const c of all) expect(c.spec.imagePullPolicy, c.where).toBe("IfNotPresent");
  });

  it("runs the app image scripts/app-image builds (what `kind load docker-image` loads) and official images", () => {
    const appImage = loadStackPlan({ root: repoRoot, stack: "local" }).plan.images.app.ref;
    expect(appImage).toBe(`chatapi:${appVersion}`);
    const images = new Set(containers(built.graph.subjects).map((c) => str(c.spec.image)));
    expect([...images].sort()).toEqual(
      [
        appImage,
        "nginxinc/nginx-unprivileged:1.28",
        "postgres:15-bookworm",
        "rabbitmq:3.13",
        "redis:7-bookworm",
      ].sort(),
    );
  });

  it("has no Service that waits for a cloud load balancer kind does not have", () => {
    const types = services(built.graph.subjects);
    expect(types["chatapi-kind-nginx"]).toBe("ClusterIP");
    expect(Object.values(types)).not.toContain("LoadBalancer");
    expect(Object.values(types)).not.toContain("NodePort");
  });

  it("deploys only to the context `kind create cluster --name chatapi` writes, in its own namespace", () => {
    expect(provider(built.graph.subjects)?.props).toMatchObject({ context: "kind-chatapi" });
    expect(namespaces(built.graph.subjects)).toEqual({ created: ["chatapi-kind"], used: ["chatapi-kind"] });
  });

  it("passes the policy pack: no mandatory or advisory violation", () => {
    expect(policyFindings(built.graph.subjects)).toEqual([]);
  });
});

describe("Pulumi.localcluster.yaml: the cluster scripts/cluster builds here", () => {
  const built = stackGraph("localcluster");

  it("claims local-path-retain (the data volumes outlive destroy) and never pulls", () => {
    const classes = claimClasses(built.graph.subjects);
    expect(Object.keys(classes)).toHaveLength(4);
    expect(new Set(Object.values(classes))).toEqual(new Set(["local-path-retain"]));
    for (const c of containers(built.graph.subjects)) expect(c.spec.imagePullPolicy, c.where).toBe("Never");
  });

  it("runs only the offline images scripts/cluster imports into the node", () => {
    const images = new Set(containers(built.graph.subjects).map((c) => str(c.spec.image)));
    expect(images).toContain(`chatapi-local/chatapi:${appVersion}`);
    for (const image of images) expect(image).toMatch(/^chatapi-local\//);
  });

  it("puts nginx behind a LoadBalancer Service (the cluster's own address allocator) in its own namespace", () => {
    expect(services(built.graph.subjects)["chatapi-localcluster-nginx"]).toBe("LoadBalancer");
    expect(namespaces(built.graph.subjects)).toEqual({
      created: ["chatapi-localcluster"],
      used: ["chatapi-localcluster"],
    });
  });

  it("passes the policy pack: no mandatory or advisory violation", () => {
    expect(policyFindings(built.graph.subjects)).toEqual([]);
  });
});
