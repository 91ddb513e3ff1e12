import { describe, expect, it } from "vitest";
import { checkStack, editNamed } from "../test/check";
import { kubernetesSubjects } from "../test/kubernetes-fixtures";
import { pdbSane as rule } from "./pdb-sane";

const isPdb = (name: string) => (s: { type: string; name: string }) =>
  s.type === "kubernetes:policy/v1:PodDisruptionBudget" && s.name === name;

describe(rule.name, () => {
  it("passes one budget per replicated workload, judged at the HPA minimum", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
  });

  it("accepts a harmless budget on a single-replica store (one disruption allowed)", () => {
    const postgresBudget = {
      type: "kubernetes:policy/v1:PodDisruptionBudget",
      name: "chatapi-prod-postgres-pdb",
      props: {
        metadata: { name: "chatapi-prod-postgres", namespace: "chatapi" },
        spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/component": "postgres" } } },
      },
    };
    expect(checkStack(rule, [...kubernetesSubjects(), postgresBudget])).toEqual([]);
  });

  it("fails a replicated workload without a budget", () => {
    const subjects = kubernetesSubjects().filter((s) => !isPdb("chatapi-prod-worker")(s));
    expect(checkStack(rule, subjects)).toEqual([
      'chatapi-prod-worker: Deployment "chatapi-prod-worker" runs 2 replicas with no PodDisruptionBudget',
    ]);
  });

  it("fails budgets that block drains or protect nothing", () => {
    const edit =
      (name: string, budget: Record<string, unknown>) => (subjects: ReturnType<typeof kubernetesSubjects>) =>
        subjects.map((s) =>
          isPdb(name)(s)
            ? {
                ...s,
                props: {
                  ...s.props,
                  spec: { ...(s.props.spec as object), ...budget, maxUnavailable: budget.maxUnavailable },
                },
              }
            : s,
        );
    const blocking = edit("chatapi-prod-api", { minAvailable: 3, maxUnavailable: undefined })(
      kubernetesSubjects(),
    );
    expect(checkStack(rule, blocking)).toEqual([
      'chatapi-prod-api: PodDisruptionBudget "chatapi-prod-api" allows no voluntary eviction of Deployment "chatapi-prod-api" at 3 replicas: node drains would block',
    ]);
    const nothing = edit("chatapi-prod-worker", { maxUnavailable: "100%" })(kubernetesSubjects());
    expect(checkStack(rule, nothing)).toEqual([
      'chatapi-prod-worker: PodDisruptionBudget "chatapi-prod-worker" lets every pod of Deployment "chatapi-prod-worker" at 2 replicas be evicted at once: it protects nothing',
    ]);
  });

  it("fails a budget on a single replica, two budgets on one workload and a budget that selects nothing", () => {
    const single = editNamed(kubernetesSubjects(), "chatapi-prod-nginx", (p) => {
      if (p.kind === "Deployment") p.spec.replicas = 1;
    });
    expect(checkStack(rule, single)).toEqual([
      'chatapi-prod-nginx: PodDisruptionBudget "chatapi-prod-nginx" allows no voluntary eviction of Deployment "chatapi-prod-nginx" at 1 replica: node drains would block',
    ]);
    const extra = kubernetesSubjects();
    const apiBudget = extra.find(isPdb("chatapi-prod-api"))!;
    extra.push({
      ...apiBudget,
      name: "second",
      props: { ...apiBudget.props, metadata: { name: "second", namespace: "chatapi" } },
    });
    const orphan = {
      ...apiBudget,
      name: "orphan",
      props: {
        ...apiBudget.props,
        metadata: { name: "orphan", namespace: "chatapi" },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: "gone" } } },
      },
    };
    extra.push(orphan);
    expect(checkStack(rule, extra)).toEqual([
      'chatapi-prod-api: 2 PodDisruptionBudgets select the pods of Deployment "chatapi-prod-api"; the eviction API refuses pods covered by more than one',
      'orphan: PodDisruptionBudget "orphan" selects no pod of the stack',
    ]);
  });
});
