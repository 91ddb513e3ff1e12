// Parity: the chart rendered with values derived from a stack (Pulumi.prod.yaml, and a variant
// that turns on what prod leaves off) describes the same objects as the Pulumi Kubernetes
// render of that stack, field by field: images, commands, env, secret references, ports,
// probes, resources, security contexts, replicas/HPA, NetworkPolicies, Jobs, CronJob, the
// nginx config. A deliberate difference fails with the field's path.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helmTemplate } from "../../test/support/helm";
import { repoRoot } from "../../test/support/paths";
import { helmStacks, loadHelmStack } from "../../test/support/helm-stacks";
import { type Manifest, compareRenders, formatDifferences } from "./parity";
import { type ParityInputs, parityInputs } from "./stack-parity";

const stacks = helmStacks();
const inputs: Record<string, ParityInputs> = {};
const renders: Record<string, Manifest[]> = {};

beforeAll(async () => {
  for (const [name, source] of Object.entries(stacks)) {
    inputs[name] = parityInputs(loadHelmStack(source));
    const input = inputs[name]!;
    renders[name] = await helmTemplate(input.release, input.namespace, input.values);
  }
});

const kinds = (objects: Manifest[]) => objects.map((o) => o.kind);

describe("the chart and the Pulumi Kubernetes target", () => {
  it.each(Object.keys(stacks))("describe the same objects for %s", (name) => {
    const input = inputs[name]!;
    const differences = compareRenders(input.pulumi, renders[name]!, input.options);
    expect(formatDifferences(differences)).toBe("");
    // Not an empty comparison: every kind the issue names is on both sides.
    for (const kind of [
      "Deployment",
      "StatefulSet",
      "Service",
      "PodDisruptionBudget",
      "NetworkPolicy",
      "Job",
      "CronJob",
      "ConfigMap",
    ])
      expect(kinds(input.pulumi), kind).toContain(kind);
    if (name === "prod") expect(kinds(input.pulumi)).toContain("HorizontalPodAutoscaler");
    expect(renders[name]!.length).toBeGreaterThanOrEqual(input.pulumi.length - 1); // all but the Namespace, plus test hooks
  });

  it("fails on a chart value that differs, naming the field", async () => {
    const input = inputs.prod!;
    const values = structuredClone(input.values) as { api: { resources: { limits: { cpu: string } } } };
    values.api.resources.limits.cpu = "3";
    const helm = await helmTemplate(input.release, input.namespace, values);
    expect(compareRenders(input.pulumi, helm, input.options)).toEqual([
      {
        object: "Deployment/<prefix>-api",
        path: "spec.template.spec.containers[api].resources.limits.cpu",
        pulumi: "2",
        helm: "3",
      },
    ]);
  });

  it("fails on a Pulumi-side change too: an nginx.conf line, a probe, a NetworkPolicy port", () => {
    const input = inputs.prod!;
    const pulumi = structuredClone(input.pulumi) as (Manifest & Record<string, any>)[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const byName = (kind: string, suffix: string) =>
      pulumi.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix))!;
    const configMap = pulumi.find((o) => o.kind === "ConfigMap" && o.data["nginx.conf"])!;
    configMap.data["nginx.conf"] = configMap.data["nginx.conf"].replace(
      "proxy_read_timeout 86400s",
      "proxy_read_timeout 60s",
    );
    byName("Deployment", "-worker").spec.template.spec.containers[0].readinessProbe.periodSeconds = 20;
    byName("NetworkPolicy", "-redis").spec.ingress[0].ports[0].port = 6380;
    const paths = compareRenders(pulumi, renders.prod!, input.options).map((d) => `${d.object} ${d.path}`);
    expect(paths).toEqual([
      "ConfigMap/<prefix>-nginx data.nginx.conf",
      "Deployment/<prefix>-worker spec.template.spec.containers[worker].readinessProbe.periodSeconds",
      "NetworkPolicy/<prefix>-redis spec.ingress[0].ports[0].port",
    ]);
  });

  it("npm run chart:values prints those values for a stack file", async () => {
    const { stdout } = await promisify(execFile)(
      join(repoRoot, "node_modules", ".bin", "tsx"),
      [join(repoRoot, "scripts", "chart-values.ts"), "--stack", "prod"],
      { cwd: repoRoot },
    );
    expect(stdout).toMatch(/^# charts\/chatapi values derived from Pulumi.prod.yaml/);
    expect(parse(stdout)).toEqual(inputs.prod!.values);
  });
});
