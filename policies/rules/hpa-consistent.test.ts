import { describe, expect, it } from "vitest";
import { type Loose, checkStack, editNamed } from "../test/check";
import { kubernetesSubjects } from "../test/kubernetes-fixtures";
import { hpaConsistent as rule } from "./hpa-consistent";

const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const editHpa = (edit: (props: Loose) => void) =>
  kubernetesSubjects().map((s) => {
    if (s.type !== HPA) return s;
    const copy = structuredClone(s);
    edit(copy.props);
    return copy;
  });

describe(rule.name, () => {
  it("passes autoscaling/v2 3..10 on CPU over a Deployment with CPU requests", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
  });

  it("fails a minimum below 3 in production, and allows it outside production", () => {
    const low = editHpa((p) => {
      p.spec.minReplicas = 1;
    });
    expect(checkStack(rule, low)).toEqual([
      'chatapi-prod-api: HorizontalPodAutoscaler "chatapi-prod-api" keeps as few as 1 pod in production (at least 3)',
    ]);
    expect(checkStack(rule, low, { environment: "non-production" })).toEqual([]);
  });

  it("fails a missing target, min above max and a Deployment whose replicas fight the HPA", () => {
    expect(
      checkStack(
        rule,
        editHpa((p) => (p.spec.scaleTargetRef.name = "chatapi-prod-apii")),
      ),
    ).toEqual([
      'chatapi-prod-api: HorizontalPodAutoscaler "chatapi-prod-api" targets Deployment "chatapi-prod-apii", which is not in the stack (namespace "chatapi")',
    ]);
    expect(
      checkStack(
        rule,
        editHpa((p) => (p.spec.maxReplicas = 2)),
      ),
    ).toEqual([
      'chatapi-prod-api: HorizontalPodAutoscaler "chatapi-prod-api" has minReplicas 3 above maxReplicas 2',
    ]);
    const fighting = editNamed(kubernetesSubjects(), "chatapi-prod-api", (p) => {
      if (p.kind === "Deployment") p.spec.replicas = 1;
    });
    expect(checkStack(rule, fighting)).toEqual([
      'chatapi-prod-api: HorizontalPodAutoscaler "chatapi-prod-api" Deployment "chatapi-prod-api" sets replicas 1, outside the autoscaler\'s 3..10',
    ]);
  });

  it("fails CPU scaling over containers without CPU requests and an old API version", () => {
    const noRequests = editNamed(kubernetesSubjects(), "chatapi-prod-api", (p) => {
      if (p.kind === "Deployment") delete p.spec.template.spec.containers[0].resources.requests;
    });
    expect(checkStack(rule, noRequests)).toEqual([
      'chatapi-prod-api: HorizontalPodAutoscaler "chatapi-prod-api" scales on cpu utilisation, but container api of Deployment "chatapi-prod-api" request no cpu (utilisation is a share of the request)',
    ]);
    const v1 = kubernetesSubjects().map((s) =>
      s.type === HPA ? { ...s, type: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler" } : s,
    );
    expect(checkStack(rule, v1)).toEqual([
      'chatapi-prod-api: HorizontalPodAutoscaler "chatapi-prod-api" uses autoscaling/v1; use autoscaling/v2',
    ]);
  });
});
