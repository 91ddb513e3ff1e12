// The Kubernetes side of monitoring.enabled, as plain objects: exporter sidecars in the data
// stores' and nginx's pods, the backup CronJob pushing to the Pushgateway, NetworkPolicies that
// let only Prometheus's namespace reach the scraped ports, and the operator's objects pointing at
// named ports that exist.
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../test/support/paths";
import { loadStackConfig } from "../../config/load";
import { readStackFile } from "../../config/stack-file";
import { buildPlan } from "../../plan/build-plan";
import type { DeploymentPlan, Role } from "../../plan/types";
import { renderManifests } from "../render/render-manifests";
import { monitoringObjects } from "./monitoring";

function prodPlan(monitoring: boolean): DeploymentPlan {
  const file = readStackFile(repoRoot, "prod");
  const config = loadStackConfig({
    stack: "prod",
    config: { ...file.config, "chatapi:monitoring": JSON.stringify({ enabled: monitoring }) },
    secretKeys: file.secretKeys,
    appVersion: "1.0.0",
  });
  return buildPlan({ config, appVersion: "1.0.0" });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const objects = (plan: DeploymentPlan) =>
  renderManifests(plan).files.flatMap((f) => f.objects) as unknown as Loose[];
const podSpec = (all: Loose[], name: string) => {
  const o = all.find(
    (x) => ["Deployment", "StatefulSet", "CronJob"].includes(x.kind as string) && x.metadata.name === name,
  )!;
  return (o.spec.template ?? o.spec.jobTemplate.spec.template).spec as Loose;
};
const policyOf = (all: Loose[], role: Role) =>
  all.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === `chatapi-prod-${role}`)!;

describe("monitoring on the Kubernetes target", () => {
  const on = objects(prodPlan(true));

  it("changes nothing when off", () => {
    const off = objects(prodPlan(false));
    expect(monitoringObjects(prodPlan(false))).toEqual([]);
    expect(podSpec(off, "chatapi-prod-postgres").containers.map((c: Loose) => c.name)).toEqual(["postgres"]);
    expect(off.filter((o) => o.metadata.name === "pushgateway")).toEqual([]);
  });

  it("runs the exporters beside the store and nginx, as nobody, from their own images, reading localhost", () => {
    const postgres = podSpec(on, "chatapi-prod-postgres");
    const exporter = postgres.containers.find((c: Loose) => c.name === "postgres-exporter");
    expect(exporter).toMatchObject({
      image: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
      args: ["--web.listen-address=:9187"],
      ports: [{ name: "metrics", containerPort: 9187, protocol: "TCP" }],
      securityContext: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
      livenessProbe: { httpGet: { path: "/", port: 9187 } },
    });
    expect(exporter.env).toContainEqual({
      name: "DATA_SOURCE_URI",
      value: "127.0.0.1:5432/chatapi?sslmode=disable",
    });
    expect(exporter.command).toBeUndefined();
    // It reads the password file; no process namespace is shared for it.
    expect(exporter.volumeMounts).toEqual([{ name: "secrets", mountPath: "/run/secrets", readOnly: true }]);
    expect(postgres.shareProcessNamespace).toBeUndefined();
    const redis = podSpec(on, "chatapi-prod-redis").containers.find(
      (c: Loose) => c.name === "redis-exporter",
    );
    expect(redis.args).toContain("--redis.addr=redis://127.0.0.1:6379");
    const nginx = podSpec(on, "chatapi-prod-nginx").containers.find(
      (c: Loose) => c.name === "nginx-exporter",
    );
    expect(nginx.args).toContain("--nginx.scrape-uri=http://127.0.0.1:8081/stub_status");
  });

  it("has the backup CronJob push to the Pushgateway, and lets it through", () => {
    const backup = podSpec(on, "chatapi-prod-backup").containers[0];
    expect(backup.env).toContainEqual({ name: "BACKUP_PUSHGATEWAY_URL", value: "http://pushgateway:9091" });
    expect(policyOf(on, "backup").spec.egress).toContainEqual({
      to: [
        {
          podSelector: {
            matchLabels: expect.objectContaining({ "app.kubernetes.io/component": "pushgateway" }),
          },
        },
      ],
      ports: [{ protocol: "TCP", port: 9091 }],
    });
  });

  it("lets only Prometheus's namespace reach the scraped ports", () => {
    const fromMonitoring = (role: Role) =>
      (policyOf(on, role).spec.ingress as Loose[]).find((r) => r.from[0].namespaceSelector)!;
    expect(fromMonitoring("postgres")).toEqual({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      ports: [{ protocol: "TCP", port: 9187 }],
    });
    expect(fromMonitoring("nginx").ports).toEqual([{ protocol: "TCP", port: 9113 }]);
    expect(fromMonitoring("pushgateway").ports).toEqual([{ protocol: "TCP", port: 9091 }]);
    expect(fromMonitoring("blackbox-exporter").ports).toEqual([{ protocol: "TCP", port: 9115 }]);
  });

  it("points each PodMonitor at a named port its pods have, and the Probe at the blackbox Service", () => {
    for (const monitor of on.filter((o) => o.kind === "PodMonitor")) {
      const role = monitor.spec.selector.matchLabels["app.kubernetes.io/component"] as string;
      const workload =
        on.find(
          (o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.metadata.name === `chatapi-prod-${role}`,
        ) ?? on.find((o) => o.kind === "Deployment" && o.metadata.name === role);
      const names = (workload!.spec.template.spec.containers as Loose[]).flatMap((c) =>
        (c.ports ?? []).map((p: Loose) => p.name),
      );
      expect(names, monitor.metadata.name).toContain(monitor.spec.podMetricsEndpoints[0].port);
    }
    const probe = on.find((o) => o.kind === "Probe")!;
    expect(probe.spec).toMatchObject({
      jobName: "chatapi-https",
      prober: { url: "blackbox-exporter.chatapi.svc:9115", path: "/probe" },
      targets: { staticConfig: { static: ["https://chatapi-prod-nginx.chatapi.svc:443/health"] } },
    });
  });
});
