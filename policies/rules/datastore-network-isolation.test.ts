import { describe, expect, it } from "vitest";
import { checkStack, editNamed } from "../test/check";
import { STACK, container, network } from "../test/docker-fixtures";
import { kubernetesSubjects } from "../test/kubernetes-fixtures";
import { datastoreNetworkIsolation as rule } from "./datastore-network-isolation";

const dockerStack = () => [
  network("backend", true),
  network("frontend", true),
  network("public", false),
  container("postgres"),
  container("redis"),
  container("api", { networksAdvanced: [{ name: `${STACK}-frontend` }, { name: `${STACK}-backend` }] }),
  container("backup", { networksAdvanced: [{ name: `${STACK}-backend` }] }),
  container("nginx", { networksAdvanced: [{ name: `${STACK}-public` }, { name: `${STACK}-frontend` }] }),
];

describe(rule.name, () => {
  it("passes stores reachable only by app roles on their ports", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
    expect(checkStack(rule, dockerStack())).toEqual([]);
  });

  it("fails an ingress rule from nginx, from anywhere, or on another port", () => {
    const subjects = editNamed(kubernetesSubjects(), "chatapi-prod-postgres-ingress", (p) => {
      p.spec.ingress = [
        {
          from: [{ podSelector: { matchLabels: { "app.kubernetes.io/component": "nginx" } } }],
          ports: [{ port: 5432 }],
        },
        { ports: [{ port: "postgres" }, { port: 9187 }] },
        {
          from: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { namespaceSelector: {}, podSelector: {} }],
          ports: [{ port: 5432 }],
        },
      ];
    });
    expect(checkStack(rule, subjects)).toEqual([
      'chatapi-prod-postgres-ingress: NetworkPolicy "chatapi-prod-postgres-ingress" lets Deployment "chatapi-prod-nginx" (role nginx) reach postgres (allowed clients: api, worker, migrate, bootstrap-admin, backup)',
      'chatapi-prod-postgres-ingress: NetworkPolicy "chatapi-prod-postgres-ingress" lets every source reach postgres (allowed clients: api, worker, migrate, bootstrap-admin, backup)',
      'chatapi-prod-postgres-ingress: NetworkPolicy "chatapi-prod-postgres-ingress" opens postgres on port 9187 (allowed: 5432)',
      'chatapi-prod-postgres-ingress: NetworkPolicy "chatapi-prod-postgres-ingress" lets the address block 0.0.0.0/0 reach postgres (allowed clients: api, worker, migrate, bootstrap-admin, backup)',
      'chatapi-prod-postgres-ingress: NetworkPolicy "chatapi-prod-postgres-ingress" lets pods of other namespaces reach postgres (allowed clients: api, worker, migrate, bootstrap-admin, backup)',
    ]);
  });

  it("lets only a monitoring namespace scrape a store's metrics port", () => {
    const scrape = (namespace: string, port: number) =>
      editNamed(kubernetesSubjects(), "chatapi-prod-rabbitmq-ingress", (p) => {
        p.spec.ingress.push({
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } }],
          ports: [{ protocol: "TCP", port }],
        });
      });
    expect(checkStack(rule, scrape("monitoring", 15692))).toEqual([]);
    expect(checkStack(rule, scrape("default", 15692))).toEqual([
      'chatapi-prod-rabbitmq-ingress: NetworkPolicy "chatapi-prod-rabbitmq-ingress" lets pods of other namespaces reach rabbitmq (allowed clients: api, worker, migrate, bootstrap-admin, backup)',
      'chatapi-prod-rabbitmq-ingress: NetworkPolicy "chatapi-prod-rabbitmq-ingress" opens rabbitmq on port 15692 (allowed: 5672, 5671)',
    ]);
    expect(checkStack(rule, scrape("monitoring", 5672))).toHaveLength(1);
    expect(checkStack(rule, scrape("default", 15692), { monitoringNamespaces: ["default"] })).toEqual([]);
  });

  it("fails a store no ingress policy governs, and one opened by a policy for every pod", () => {
    const ungoverned = kubernetesSubjects().filter(
      (s) => s.name !== "chatapi-prod-redis-ingress" && s.name !== "chatapi-prod-default-deny",
    );
    expect(checkStack(rule, ungoverned)).toEqual([
      'chatapi-prod-redis: redis (StatefulSet "chatapi-prod-redis"): no NetworkPolicy restricts who connects to it',
    ]);
    const openAll = editNamed(kubernetesSubjects(), "chatapi-prod-default-deny", (p) => {
      p.spec.ingress = [{ from: [{ podSelector: {} }] }];
    });
    expect(checkStack(rule, openAll)).toContain(
      'chatapi-prod-default-deny: NetworkPolicy "chatapi-prod-default-deny" lets every pod of the namespace reach rabbitmq (allowed clients: api, worker, migrate, bootstrap-admin, backup)',
    );
  });

  it("fails a Docker store on a network with a route out or shared with nginx", () => {
    const routed = dockerStack().map((s) => (s.name === `${STACK}-backend` ? network("backend", false) : s));
    expect(checkStack(rule, routed)).toEqual([
      `${STACK}-postgres: the postgres container is on network ${STACK}-backend, which is not internal (it has a route out of the host)`,
      `${STACK}-redis: the redis container is on network ${STACK}-backend, which is not internal (it has a route out of the host)`,
    ]);
    const shared = editNamed(dockerStack(), `${STACK}-nginx`, (p) => {
      p.networksAdvanced.push({ name: `${STACK}-backend` });
    });
    expect(checkStack(rule, shared)).toEqual([
      `${STACK}-postgres: the postgres container shares network ${STACK}-backend with ${STACK}-nginx (role nginx), which is not an allowed client (api, worker, migrate, bootstrap-admin, backup)`,
      `${STACK}-redis: the redis container shares network ${STACK}-backend with ${STACK}-nginx (role nginx), which is not an allowed client (api, worker, migrate, bootstrap-admin, backup)`,
    ]);
  });
});
