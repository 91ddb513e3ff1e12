// The comparison behind the Helm parity test: what it normalises away, and that anything else
// is reported with the field's path.
import { describe, expect, it } from "vitest";
import { type Manifest, compareRenders, formatDifferences, normalise } from "./parity";

const options = {
  pulumi: {
    prefixes: ["chatapi-prod", "prod-chatapi"],
    renames: { "chatapi-prod-nginx-0123456789": "chatapi-prod-nginx" },
  },
  helm: { prefixes: ["chatapi-prod", "prod-chatapi"] },
};

function deployment(
  name: string,
  labels: Record<string, string>,
  container: Record<string, unknown>,
): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels },
    spec: {
      template: {
        metadata: { labels },
        spec: {
          containers: [container],
          volumes: [
            {
              name: "config",
              configMap: {
                name: name === "chatapi-prod-api" ? "chatapi-prod-nginx-0123456789" : "prod-chatapi-nginx",
              },
            },
          ],
        },
      },
    },
  };
}

const pulumiLabels = { "app.kubernetes.io/component": "api", "app.kubernetes.io/managed-by": "pulumi" };
const helmLabels = {
  "app.kubernetes.io/component": "api",
  "app.kubernetes.io/managed-by": "Helm",
  "helm.sh/chart": "chatapi-0.1.0",
};
const container = (cpu: string, env: { name: string; value: string }[]) => ({
  name: "api",
  image: "registry.example.com/chatapi:1.0.0",
  env,
  resources: { limits: { cpu } },
});

describe("compareRenders", () => {
  it("sees no difference between renders that differ only in names, bookkeeping, env order and empty lists", () => {
    const env = [
      { name: "A", value: "1" },
      { name: "B", value: "chatapi-prod-api-headless.chatapi.svc" },
    ];
    const pulumi = deployment("chatapi-prod-api", pulumiLabels, { ...container("2", env), args: [] });
    const helm = deployment(
      "prod-chatapi-api",
      helmLabels,
      container(
        "2",
        [...env].reverse().map((e) => ({ ...e, value: e.value.replace("chatapi-prod", "prod-chatapi") })),
      ),
    );
    (helm.metadata as Record<string, unknown>).annotations = {
      "helm.sh/hook": "pre-upgrade",
      "checksum/config": "abc",
    };
    expect(compareRenders([pulumi], [helm], options)).toEqual([]);
  });

  it("reports a changed field with its path, list items by name", () => {
    const pulumi = deployment(
      "chatapi-prod-api",
      pulumiLabels,
      container("2", [{ name: "LOG_LEVEL", value: "INFO" }]),
    );
    const helm = deployment(
      "prod-chatapi-api",
      helmLabels,
      container("3", [{ name: "LOG_LEVEL", value: "DEBUG" }]),
    );
    const differences = compareRenders([pulumi], [helm], options);
    expect(differences).toEqual([
      {
        object: "Deployment/<prefix>-api",
        path: "spec.template.spec.containers[api].env[LOG_LEVEL].value",
        pulumi: "INFO",
        helm: "DEBUG",
      },
      {
        object: "Deployment/<prefix>-api",
        path: "spec.template.spec.containers[api].resources.limits.cpu",
        pulumi: "2",
        helm: "3",
      },
    ]);
    expect(formatDifferences(differences)).toContain(
      'Deployment/<prefix>-api spec.template.spec.containers[api].resources.limits.cpu: Pulumi "2", Helm "3"',
    );
  });

  it("reports labels other than bookkeeping, and objects only one side has", () => {
    const pulumi = deployment(
      "chatapi-prod-api",
      { ...pulumiLabels, "app.kubernetes.io/version": "1.0.0" },
      container("2", []),
    );
    const helm = deployment("prod-chatapi-api", helmLabels, container("2", []));
    const extra: Manifest = { apiVersion: "v1", kind: "Service", metadata: { name: "prod-chatapi-extra" } };
    const differences = compareRenders([pulumi], [helm, extra], options);
    expect(differences.map((d) => [d.object, d.path, d.pulumi, d.helm])).toEqual([
      ["Deployment/<prefix>-api", "metadata.labels.app.kubernetes.io/version", "1.0.0", undefined],
      [
        "Deployment/<prefix>-api",
        "spec.template.metadata.labels.app.kubernetes.io/version",
        "1.0.0",
        undefined,
      ],
      [
        "Service/<prefix>-extra",
        "",
        undefined,
        { apiVersion: "v1", kind: "Service", metadata: { name: "<prefix>-extra" } },
      ],
    ]);
    expect(formatDifferences(differences)).toContain(
      "Service/<prefix>-extra (whole object): Pulumi (absent), Helm {",
    );
  });

  it("leaves out the Namespace, helm test objects and a hook copy of a released object", () => {
    const sa = (annotations?: Record<string, string>): Manifest => ({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "prod-chatapi", ...(annotations ? { annotations } : {}) },
    });
    const testJob: Manifest = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "prod-chatapi-test-health", annotations: { "helm.sh/hook": "test" } },
    };
    const ns: Manifest = { apiVersion: "v1", kind: "Namespace", metadata: { name: "chatapi" } };
    const kept = normalise([ns, sa(), sa({ "helm.sh/hook": "pre-install" }), testJob], options.helm);
    expect([...kept.keys()]).toEqual(["ServiceAccount/<prefix>"]);
  });

  it("does not rename a longer name that merely starts like the prefix", () => {
    const cm = (name: string): Manifest => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
      data: { a: "chatapi-production" },
    });
    expect([...normalise([cm("chatapi-production")], options.pulumi).values()][0]).toMatchObject({
      metadata: { name: "chatapi-production" },
      data: { a: "chatapi-production" },
    });
  });
});
