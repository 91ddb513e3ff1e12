import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment, statefulSet } from "../test/kubernetes-fixtures";
import { datastorePersistentStorage as rule } from "./datastore-persistent-storage";

describe(rule.name, () => {
  it("passes StatefulSets with a claim at the data folder and Docker stores with a volume", () => {
    for (const store of ["postgres", "redis", "rabbitmq"]) {
      expect(check(rule, statefulSet(store))).toEqual([]);
      expect(check(rule, container(store))).toEqual([]);
    }
    expect(check(rule, deployment("api"))).toEqual([]);
  });

  it("accepts an exporter sidecar without the data folder, not a second store container", () => {
    const withSidecar = (name: string, image: string) =>
      changed(statefulSet("postgres"), (p) => {
        p.spec.template.spec.containers.push({ name, image, volumeMounts: [] });
      });
    expect(
      check(rule, withSidecar("postgres-exporter", "quay.io/prometheuscommunity/postgres-exporter:v0.15.0")),
    ).toEqual([]);
    expect(check(rule, withSidecar("replica", "postgres:15-bookworm"))).toEqual([
      'container "replica" (postgres) keeps /var/lib/postgresql/data on no PersistentVolumeClaim',
    ]);
  });

  it("accepts a persistentVolumeClaim volume mounted above the data folder", () => {
    const deploymentWithClaim = changed(statefulSet("postgres"), (p) => {
      delete p.spec.volumeClaimTemplates;
      p.spec.template.spec.volumes.push({ name: "data", persistentVolumeClaim: { claimName: "pg" } });
      p.spec.template.spec.containers[0].volumeMounts[0].mountPath = "/var/lib/postgresql";
    });
    expect(check(rule, deploymentWithClaim)).toEqual([]);
  });

  it("fails a store on emptyDir and a Docker store without a volume", () => {
    const bad = changed(statefulSet("redis"), (p) => {
      delete p.spec.volumeClaimTemplates;
      p.spec.template.spec.volumes.push({ name: "data", emptyDir: {} });
    });
    expect(check(rule, bad)).toEqual(['container "redis" (redis) keeps /data on no PersistentVolumeClaim']);
    const tmpfs = container("rabbitmq", { volumes: [], tmpfs: { "/var/lib/rabbitmq": "size=1g" } });
    expect(check(rule, tmpfs)).toEqual([
      "the rabbitmq container keeps /var/lib/rabbitmq on no volume (its data would be lost with the container)",
    ]);
  });
});
