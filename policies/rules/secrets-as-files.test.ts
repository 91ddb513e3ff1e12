import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment } from "../test/kubernetes-fixtures";
import { secretsAsFiles as rule } from "./secrets-as-files";

describe(rule.name, () => {
  it("is advisory and passes Secrets mounted as files", () => {
    expect(rule.enforcementLevel).toBe("advisory");
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("reports Secrets delivered through environment variables", () => {
    const bad = changed(deployment("worker"), (p) => {
      p.spec.template.spec.containers[0].env.push({
        name: "SMTP_PASSWORD",
        valueFrom: { secretKeyRef: { name: "chatapi-prod-smtp", key: "password" } },
      });
      p.spec.template.spec.containers[0].envFrom = [{ secretRef: { name: "chatapi-prod-app" } }];
    });
    expect(check(rule, bad)).toEqual([
      'container "worker": env SMTP_PASSWORD comes from Secret "chatapi-prod-smtp" as an environment variable',
      'container "worker": loads every key of Secret "chatapi-prod-app" into env (envFrom)',
    ]);
  });
});
