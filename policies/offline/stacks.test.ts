// The shipped stacks through the offline runner: each passes every mandatory rule, and
// deliberately weakened versions (through their config, or a resource edited the way a
// transform would) fail with exactly the expected violations.
import { beforeAll, describe, expect, it } from "vitest";
import { readStackFile } from "../../components/config/stack-file";
import { repoRoot } from "../../test/support/paths";
import { DOCKER_CONTAINER } from "../core/docker";
import { isKind, kubernetesKind, objectName } from "../core/kubernetes";
import { deniesAll } from "../core/network-policies";
import type { Subject } from "../core/types";
import { type Loose, changed } from "../test/check";
import { evaluate, mandatoryViolations } from "./evaluate";
import { type StackGraph, buildStackGraph, stackNames } from "./stack-graph";

const build = (stack: string, editConfig?: (config: Record<string, string>) => void) =>
  buildStackGraph(stack, { projectDir: repoRoot, ...(editConfig ? { editConfig } : {}) });

/** A Docker container's name without its release id (chatapi-x-api-<release>-1 → chatapi-x-api-1). */
const withoutRelease = (name: string) =>
  name.replace(/-(migrate|bootstrap-admin|api|worker|backup)-[0-9a-f]{8}(?=-|$)/, "-$1");

/** A resource as reports name it here: Kubernetes objects by kind/name (not their Pulumi name). */
function label(subject: Subject | undefined): string {
  if (!subject) return "(stack)";
  const kind = kubernetesKind(subject);
  return kind ? `${kind.kind}/${objectName(subject)}` : withoutRelease(subject.name);
}

/** Mandatory violations as "<rule> <resource>: <message>", sorted. */
function mandatory(subjects: Subject[]): string[] {
  const evaluation = evaluate(subjects);
  expect(evaluation.errors).toEqual([]);
  return mandatoryViolations(evaluation)
    .map((v) => `${v.rule.name} ${label(v.subject)}: ${v.message}`)
    .sort();
}

/** Edits a Docker container (its component resource has the same name). */
const edit = (subjects: Subject[], name: string, change: (props: Loose) => void) => {
  const target = (s: Subject) => withoutRelease(s.name) === name && s.type === DOCKER_CONTAINER;
  expect(subjects.filter(target), name).toHaveLength(1);
  return subjects.map((s) => (target(s) ? changed(s, change) : s));
};

const patchJson = (config: Record<string, string>, key: string, patch: Record<string, unknown>) => {
  config[key] = JSON.stringify({ ...(config[key] ? (JSON.parse(config[key]) as object) : {}), ...patch });
};

describe("every shipped stack passes every mandatory rule", () => {
  const stacks = stackNames(repoRoot);

  it("finds the stack files", () =>
    expect(stacks).toEqual(expect.arrayContaining(["local", "dockerhost", "prod"])));

  for (const stack of stacks) {
    const target = readStackFile(repoRoot, stack).config["chatapi:target"];
    it(`${stack} (${target})`, async () => {
      const graph = await build(stack);
      expect(graph.subjects.length).toBeGreaterThan(20);
      expect(mandatory(graph.subjects)).toEqual([]);
    }, 60_000);
  }
});

describe("weakened Docker stacks fail with exactly the expected violations", () => {
  let local: StackGraph;
  let dockerhost: StackGraph;
  beforeAll(async () => {
    local = await build("local");
    dockerhost = await build("dockerhost");
  }, 120_000);

  it("a privileged API container", () => {
    const subjects = edit(local.subjects, "chatapi-local-api-1", (p) => (p.privileged = true));
    expect(mandatory(subjects)).toEqual([
      "no-privileged-containers chatapi-local-api-1: the container runs privileged (privileged: true)",
    ]);
  });

  it("a published PostgreSQL port", () => {
    const subjects = edit(dockerhost.subjects, "chatapi-dockerhost-postgres", (p) => {
      p.ports = [{ internal: 5432, external: 5432, ip: "0.0.0.0", protocol: "tcp" }];
    });
    expect(mandatory(subjects)).toEqual([
      "datastore-ports-not-exposed chatapi-dockerhost-postgres: the postgres container publishes port 5432 on 0.0.0.0:5432",
      "no-host-ports chatapi-dockerhost-postgres: the container (role postgres) publishes port 5432 on the host; only the load balancer may",
    ]);
  });

  it("Redis attached to the public network as well", () => {
    const subjects = edit(local.subjects, "chatapi-local-redis", (p) => {
      p.networksAdvanced.push({ name: "chatapi-local-public", aliases: [] });
    });
    expect(mandatory(subjects)).toEqual([
      "datastore-network-isolation chatapi-local-redis: the redis container is on network chatapi-local-public, which is not internal (it has a route out of the host)",
      "datastore-network-isolation chatapi-local-redis: the redis container shares network chatapi-local-public with chatapi-local-nginx (role nginx), which is not an allowed client (api, worker, migrate, bootstrap-admin, backup)",
    ]);
  });

  it("the Docker socket in a worker, a writable root and a plain secret", () => {
    const subjects = edit(local.subjects, "chatapi-local-worker-1", (p) => {
      p.volumes.push({
        hostPath: "/var/run/docker.sock",
        containerPath: "/var/run/docker.sock",
        readOnly: false,
      });
      p.readOnly = false;
      p.envs.push("SMTP_PASSWORD=hunter2-never-printed");
    });
    const found = mandatory(subjects);
    expect(found).toEqual([
      "no-host-paths chatapi-local-worker-1: the bind mount at /var/run/docker.sock bind-mounts the host's /var/run/docker.sock",
      "no-runtime-sockets chatapi-local-worker-1: the bind mount at /var/run/docker.sock exposes the runtime socket /var/run/docker.sock",
      "no-secret-literals chatapi-local-worker-1: the container's env SMTP_PASSWORD holds a literal secret value (not shown)",
      "read-only-root-filesystem chatapi-local-worker-1: the container (role worker) has a writable root filesystem (readOnly is not true)",
    ]);
    expect(found.join("\n")).not.toContain("hunter2");
  });

  it("one API instance and one worker in production (config)", async () => {
    const graph = await build("dockerhost", (config) => {
      patchJson(config, "chatapi:api", { replicas: 1 });
      patchJson(config, "chatapi:worker", { replicas: 1 });
    });
    expect(mandatory(graph.subjects)).toEqual([
      "production-min-replicas chatapi-dockerhost-api-1: 1 api container in production; at least 3",
      "production-min-replicas chatapi-dockerhost-worker-1: 1 worker container in production; at least 2",
    ]);
  }, 60_000);

  it("a 5-minute HSTS and a 10-minute WebSocket timeout in production, 7-day backups (config)", async () => {
    const graph = await build("dockerhost", (config) => {
      patchJson(config, "chatapi:nginx", { hstsMaxAgeSeconds: 300, wsReadTimeoutSeconds: 600 });
      patchJson(config, "chatapi:backup", { retentionDays: 7 });
    });
    const conf = "nginx config (uploaded file /etc/nginx/chatapi/nginx.conf)";
    expect(mandatory(graph.subjects)).toEqual([
      "backup-hygiene chatapi-dockerhost-backup: the backup container keeps backups 7 days (BACKUP_RETENTION_DAYS); at least 30",
      `lb-tls chatapi-dockerhost-nginx-files: ${conf}: server chat.example.com (listen 8443) sends Strict-Transport-Security with max-age 300; at least 31536000`,
      `websocket-sticky-timeouts chatapi-dockerhost-nginx-files: ${conf}: location = /ws closes idle WebSockets after 600s (proxy_read_timeout); at least 3600s`,
    ]);
  }, 60_000);
});

describe("weakened Kubernetes production stacks fail with exactly the expected violations", () => {
  let prod: StackGraph;
  beforeAll(async () => {
    prod = await build("prod");
  }, 120_000);

  /** Edits a Kubernetes object by kind and metadata.name. */
  const editObject = (subjects: Subject[], kind: string, name: string, change: (props: Loose) => void) => {
    const target = (s: Subject) => isKind(s, kind) && objectName(s) === name;
    expect(subjects.filter(target), `${kind}/${name}`).toHaveLength(1);
    return subjects.map((s) => (target(s) ? changed(s, change) : s));
  };

  it("one API replica in production (config): the autoscaler's minimum", async () => {
    const graph = await build("prod", (config) => patchJson(config, "chatapi:api", { replicas: 1 }));
    expect(mandatory(graph.subjects)).toEqual([
      'hpa-consistent HorizontalPodAutoscaler/chatapi-prod-api: HorizontalPodAutoscaler "chatapi-prod-api" keeps as few as 1 pod in production (at least 3)',
    ]);
  }, 60_000);

  it("one worker in production (config)", async () => {
    const graph = await build("prod", (config) => patchJson(config, "chatapi:worker", { replicas: 1 }));
    expect(mandatory(graph.subjects)).toEqual([
      'production-min-replicas Deployment/chatapi-prod-worker: Deployment "chatapi-prod-worker" (worker) runs 1 replica in production; at least 2',
    ]);
  }, 60_000);

  it("a 5-minute HSTS, a 10-minute WebSocket timeout and 7-day backups (config)", async () => {
    const graph = await build("prod", (config) => {
      patchJson(config, "chatapi:nginx", { hstsMaxAgeSeconds: 300, wsReadTimeoutSeconds: 600 });
      patchJson(config, "chatapi:backup", { retentionDays: 7 });
    });
    const found = mandatory(graph.subjects);
    expect(found).toHaveLength(3);
    expect(found[0]).toBe(
      'backup-hygiene CronJob/chatapi-prod-backup: CronJob "chatapi-prod-backup" container "backup" keeps backups 7 days (BACKUP_RETENTION_DAYS); at least 30',
    );
    expect(found[1]).toMatch(
      /^lb-tls ConfigMap\/\S+: nginx config \(data key "nginx.conf"\): server chat.example.com \(listen 8443\) sends Strict-Transport-Security with max-age 300; at least 31536000$/,
    );
    expect(found[2]).toMatch(
      /^websocket-sticky-timeouts ConfigMap\/\S+: .*location = \/ws closes idle WebSockets after 600s \(proxy_read_timeout\); at least 3600s$/,
    );
  }, 60_000);

  it("a privileged API container", () => {
    const subjects = editObject(prod.subjects, "Deployment", "chatapi-prod-api", (p) => {
      p.spec.template.spec.containers[0].securityContext.privileged = true;
    });
    expect(mandatory(subjects)).toEqual([
      'no-privileged-containers Deployment/chatapi-prod-api: container "api" runs privileged (securityContext.privileged: true)',
    ]);
  });

  it("PostgreSQL behind a LoadBalancer Service", () => {
    const service = prod.subjects.find((s) => isKind(s, "Service") && /postgres/.test(objectName(s)))!;
    const subjects = editObject(prod.subjects, "Service", objectName(service), (p) => {
      p.spec.type = "LoadBalancer";
    });
    expect(mandatory(subjects)).toEqual([
      `datastore-ports-not-exposed Service/${objectName(service)}: the LoadBalancer Service exposes postgres outside the cluster`,
    ]);
  });

  it("no default-deny NetworkPolicy: every workload is reported", () => {
    const defaultDeny = (s: Subject) =>
      isKind(s, "NetworkPolicy") && deniesAll(s, "Ingress") && deniesAll(s, "Egress");
    const subjects = prod.subjects.filter((s) => !defaultDeny(s));
    expect(subjects.length).toBe(prod.subjects.length - 1);
    const found = mandatory(subjects);
    expect(found.length).toBeGreaterThanOrEqual(9);
    expect(found.every((f) => f.startsWith("network-policy-default-deny "))).toBe(true);
  });
});

describe("stacks with monitoring on (chatapi:monitoring.enabled)", () => {
  const monitored = (stack: string) =>
    build(stack, (config) => patchJson(config, "chatapi:monitoring", { enabled: true }));

  for (const stack of ["local", "dockerhost"]) {
    it(`${stack} passes every mandatory rule, Prometheus published on 127.0.0.1 only`, async () => {
      const graph = await monitored(stack);
      const prometheus = graph.subjects.find(
        (s) => s.name === `chatapi-${stack}-prometheus` && s.type === DOCKER_CONTAINER,
      );
      expect(prometheus?.props.ports).toEqual([
        { internal: 9090, external: 9090, ip: "127.0.0.1", protocol: "tcp" },
      ]);
      expect(mandatory(graph.subjects)).toEqual([]);
    }, 60_000);
  }

  it("prod (Kubernetes) with monitoring on passes every mandatory rule, with the operator's objects", async () => {
    const graph = await monitored("prod");
    const kinds = graph.subjects.map((s) => kubernetesKind(s)?.kind).filter(Boolean);
    expect(kinds.filter((k) => k === "PodMonitor")).toHaveLength(7); // SCRAPE_JOBS but node (the cluster's) and the probe
    expect(kinds).toEqual(expect.arrayContaining(["Probe", "PrometheusRule"]));
    expect(mandatory(graph.subjects)).toEqual([]);
  }, 60_000);

  it("dockerhost with Alertmanager passes every mandatory rule, Alertmanager on 127.0.0.1 only; on every address it fails", async () => {
    const graph = await build("dockerhost", (config) =>
      patchJson(config, "chatapi:monitoring", {
        enabled: true,
        alertmanager: { enabled: true, emailTo: ["oncall@example.com"] },
      }),
    );
    const alertmanager = graph.subjects.find(
      (s) => s.name === "chatapi-dockerhost-alertmanager" && s.type === DOCKER_CONTAINER,
    );
    expect(alertmanager?.props.ports).toEqual([
      { internal: 9093, external: 9093, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(mandatory(graph.subjects)).toEqual([]);
    const exposed = edit(graph.subjects, "chatapi-dockerhost-alertmanager", (p) => {
      p.ports = [{ internal: 9093, external: 9093, ip: "0.0.0.0", protocol: "tcp" }];
    });
    expect(mandatory(exposed)).toEqual([
      "monitoring-loopback-only chatapi-dockerhost-alertmanager: the alertmanager container publishes port 9093 on 0.0.0.0:9093, not on the host's loopback",
      "no-host-ports chatapi-dockerhost-alertmanager: the container (role alertmanager) publishes port 9093 on the host; only the load balancer may",
    ]);
  }, 60_000);

  it("Prometheus published on every address, an exporter published at all", async () => {
    const graph = await monitored("dockerhost");
    let subjects = edit(graph.subjects, "chatapi-dockerhost-prometheus", (p) => {
      p.ports = [{ internal: 9090, external: 9090, ip: "0.0.0.0", protocol: "tcp" }];
    });
    subjects = edit(subjects, "chatapi-dockerhost-postgres-exporter", (p) => {
      p.ports = [{ internal: 9187, external: 9187, ip: "127.0.0.1", protocol: "tcp" }];
    });
    expect(mandatory(subjects)).toEqual([
      "monitoring-loopback-only chatapi-dockerhost-prometheus: the prometheus container publishes port 9090 on 0.0.0.0:9090, not on the host's loopback",
      "no-host-ports chatapi-dockerhost-postgres-exporter: the container (role postgres-exporter) publishes port 9187 on the host; only the load balancer may",
      "no-host-ports chatapi-dockerhost-prometheus: the container (role prometheus) publishes port 9090 on the host; only the load balancer may",
    ]);
  }, 60_000);
});
