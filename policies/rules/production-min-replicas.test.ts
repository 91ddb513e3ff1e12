import { describe, expect, it } from "vitest";
import { checkStack, editNamed } from "../test/check";
import { container } from "../test/docker-fixtures";
import { kubernetesSubjects } from "../test/kubernetes-fixtures";
import { productionMinReplicas as rule } from "./production-min-replicas";

const production = ["ENVIRONMENT=production"];
const dockerStack = (api: number, worker: number) => [
  ...Array.from({ length: api }, (_, i) => ({
    ...container("api", { envs: production }),
    name: `api-${i + 1}`,
  })),
  ...Array.from({ length: worker }, (_, i) => ({
    ...container("worker", { envs: production }),
    name: `worker-${i + 1}`,
  })),
];

describe(rule.name, () => {
  it("passes the guide's 3 API and 2 worker instances in production", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
    expect(checkStack(rule, dockerStack(3, 2))).toEqual([]);
  });

  it("fails fewer instances in production, on Docker and Kubernetes", () => {
    expect(checkStack(rule, dockerStack(1, 1))).toEqual([
      "api-1: 1 api container in production; at least 3",
      "worker-1: 1 worker container in production; at least 2",
    ]);
    const oneWorker = editNamed(kubernetesSubjects(), "chatapi-prod-worker", (p) => {
      if (p.kind === "Deployment") p.spec.replicas = 1;
    });
    expect(checkStack(rule, oneWorker)).toEqual([
      'chatapi-prod-worker: Deployment "chatapi-prod-worker" (worker) runs 1 replica in production; at least 2',
    ]);
  });

  it("does not apply outside production (the local stack runs 2 API instances, 1 worker)", () => {
    const local = [container("api"), container("api"), container("worker")];
    expect(checkStack(rule, local)).toEqual([]);
    expect(checkStack(rule, local, { environment: "production" })).toHaveLength(2);
  });
});
