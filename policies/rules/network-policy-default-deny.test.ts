import { describe, expect, it } from "vitest";
import { checkStack, editNamed } from "../test/check";
import { container } from "../test/docker-fixtures";
import { kubernetesSubjects } from "../test/kubernetes-fixtures";
import { networkPolicyDefaultDeny as rule } from "./network-policy-default-deny";

const withoutDefaultDeny = () => kubernetesSubjects().filter((s) => s.name !== "chatapi-prod-default-deny");

describe(rule.name, () => {
  it("passes a namespace with a default-deny policy for both directions; Docker has none to check", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
    expect(checkStack(rule, [container("api")])).toEqual([]);
  });

  it("fails every workload when the namespace has no default deny", () => {
    const findings = checkStack(rule, withoutDefaultDeny());
    expect(findings).toHaveLength(7);
    expect(findings).toContain(
      'chatapi-prod-api: the pods of Deployment "chatapi-prod-api" are not covered by a default-deny NetworkPolicy for Ingress and Egress in namespace "chatapi"',
    );
    expect(findings).toContain(
      'chatapi-prod-backup: the pods of CronJob "chatapi-prod-backup" are not covered by a default-deny NetworkPolicy for Ingress and Egress in namespace "chatapi"',
    );
  });

  it("fails a deny that covers ingress only, or that allows something", () => {
    const ingressOnly = editNamed(kubernetesSubjects(), "chatapi-prod-default-deny", (p) => {
      p.spec.policyTypes = ["Ingress"];
    });
    expect(checkStack(rule, ingressOnly)[0]).toBe(
      'chatapi-prod-postgres: the pods of StatefulSet "chatapi-prod-postgres" are not covered by a default-deny NetworkPolicy for Egress in namespace "chatapi"',
    );
    expect(checkStack(rule, ingressOnly, { directions: ["Ingress"] })).toEqual([]);
    const allowing = editNamed(kubernetesSubjects(), "chatapi-prod-default-deny", (p) => {
      p.spec.ingress = [{}];
    });
    expect(checkStack(rule, allowing)[0]).toMatch(
      /not covered by a default-deny NetworkPolicy for Ingress in/,
    );
  });

  it("judges each namespace on its own", () => {
    const moved = editNamed(kubernetesSubjects(), "chatapi-prod-default-deny", (p) => {
      p.metadata.namespace = "other";
    });
    expect(checkStack(rule, moved)).toHaveLength(7);
  });
});
