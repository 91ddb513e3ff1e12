// Chart values derived from a Kubernetes stack are valid chart values, carry the stack's
// numbers, and a stack the chart cannot express is refused naming the setting.
import { describe, expect, it } from "vitest";
import { helmStacks, loadHelmStack } from "../../test/support/helm-stacks";
import { chartSchemaValidator } from "./chart-files";
import { ChartValuesError, chartValuesFor, splitImage } from "./chart-values";

describe("chartValuesFor", () => {
  it.each(Object.entries(helmStacks()))("derives valid chart values from %s", (_name, source) => {
    const { plan, config } = loadHelmStack(source);
    const values = chartValuesFor(plan, config.settings);
    const validate = chartSchemaValidator();
    expect(validate(values), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("carries prod's images, replicas, autoscaling, resources, secrets and TLS issuer", () => {
    const { plan, config } = loadHelmStack({ file: "prod" });
    const values = chartValuesFor(plan, config.settings);
    expect(values).toMatchObject({
      domain: "chat.example.com",
      image: { repository: "registry.example.com/chatapi", tag: "1.0.0" },
      api: {
        autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 10, targetCPUUtilizationPercentage: 70 },
        resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
      },
      worker: { replicaCount: 2 },
      nginx: {
        replicaCount: 2,
        version: "1.28",
        service: { type: "LoadBalancer", httpPort: 80, httpsPort: 443 },
      },
      secrets: { existingSecret: "chatapi-prod-secrets" },
      tls: {
        existingSecret: "chatapi-prod-tls",
        certManager: { enabled: true, issuerName: "letsencrypt-prod" },
      },
      postgresql: { enabled: true, service: { name: "postgres" }, persistence: { size: "50Gi" } },
      backup: { enabled: true, schedule: "0 2 * * *", retentionDays: 30 },
    });
  });

  it("refuses what the chart cannot express, naming it", () => {
    const gateway = loadHelmStack({
      file: "prod",
      stack: "gw",
      changes: {
        "chatapi:tls": JSON.stringify({ mode: "acme", acmeEmail: "ops@example.com" }),
        "chatapi:kubernetes": JSON.stringify({ namespace: "chatapi", gatewayClassName: "eg" }),
      },
    });
    expect(() => chartValuesFor(gateway.plan, gateway.config.settings)).toThrow(
      new ChartValuesError(
        "kubernetes.gatewayClassName: the chart runs the nginx load balancer; a Gateway API stack has no chart equivalent",
      ),
    );
    expect(() => splitImage("registry.example.com/chatapi@sha256:abc", "images.app")).toThrow(
      /images.app: .* digest/,
    );
    expect(splitImage("registry.example.com:5000/team/chatapi:1.0.0", "images.app")).toEqual({
      repository: "registry.example.com:5000/team/chatapi",
      tag: "1.0.0",
    });
    expect(() => splitImage("registry.example.com:5000/chatapi", "images.app")).toThrow(
      "images.app: registry.example.com:5000/chatapi has no tag",
    );
  });
});
