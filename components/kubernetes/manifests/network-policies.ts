// NetworkPolicies: deny everything in the namespace, then allow DNS and exactly the plan's
// flows (nginx → API, the app's processes → their data stores, worker → SMTP, backup → S3,
// managed services), clients → nginx, and Prometheus → the metrics ports. Pure.
import type * as k8s from "@pulumi/kubernetes";
import type { DeploymentPlan, FlowPlan, WorkloadPlan } from "../../plan/types";
import { metadata, selectorLabels, stackLabels } from "./meta";

type NetworkPolicy = k8s.types.input.networking.v1.NetworkPolicy;
type IngressRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;

/** cert-manager's HTTP-01 solver pods listen here. */
const ACME_SOLVER_PORT = 8089;
const anywhere = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];
const tcp = (port: number) => [{ protocol: "TCP", port }];

function policy(
  plan: DeploymentPlan,
  name: string,
  component: string,
  podSelector: k8s.types.input.meta.v1.LabelSelector,
  rules: { ingress?: IngressRule[]; egress?: EgressRule[] },
): NetworkPolicy {
  const policyTypes = [
    ...(rules.ingress && rules.ingress.length > 0 ? ["Ingress"] : []),
    ...(rules.egress && rules.egress.length > 0 ? ["Egress"] : []),
  ];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: metadata(plan, name, stackLabels(plan, component)),
    spec: {
      podSelector,
      policyTypes,
      ...(policyTypes.includes("Ingress") ? { ingress: rules.ingress } : {}),
      ...(policyTypes.includes("Egress") ? { egress: rules.egress } : {}),
    },
  };
}

function ingressRules(plan: DeploymentPlan, w: WorkloadPlan, flows: FlowPlan[]): IngressRule[] {
  const rules: IngressRule[] = flows
    .filter((f) => f.to === w.role && f.port !== undefined)
    .map((f) => ({
      from: [{ podSelector: { matchLabels: selectorLabels(plan, f.from) } }],
      ports: tcp(f.port!),
    }));
  if (w.role === "nginx") {
    // Clients, through the LoadBalancer Service (their own addresses: externalTrafficPolicy Local).
    rules.push({
      from: anywhere,
      ports: [...tcp(plan.loadBalancer.listen.http), ...tcp(plan.loadBalancer.listen.https)],
    });
  }
  if (w.role === "api" && plan.kubernetes.gatewayClassName) {
    // The Gateway's data plane: where it runs depends on the implementation (in or out of the cluster).
    rules.push({ from: anywhere, ports: tcp(w.ports[0]!.containerPort) });
  }
  // Prometheus's namespace, on the ports it scrapes here: the annotated metrics port, and with
  // monitoring on each scrape job's port on these pods (exporter sidecars, Pushgateway, blackbox).
  const scraped = new Set<number>();
  if (w.metrics && plan.kubernetes.prometheusScrape) scraped.add(w.metrics.port);
  for (const job of plan.monitoring.jobs) if (job.role === w.role) scraped.add(job.port);
  if (scraped.size > 0) {
    rules.push({
      from: [
        {
          namespaceSelector: {
            matchLabels: { "kubernetes.io/metadata.name": plan.kubernetes.prometheusNamespace },
          },
        },
      ],
      ports: [...scraped].sort((a, b) => a - b).flatMap(tcp),
    });
  }
  return rules;
}

function egressRules(plan: DeploymentPlan, w: WorkloadPlan, flows: FlowPlan[]): EgressRule[] {
  return flows
    .filter((f) => f.from === w.role && f.port !== undefined)
    .map((f) =>
      f.to === "internet"
        ? { to: anywhere, ports: tcp(f.port!) }
        : { to: [{ podSelector: { matchLabels: selectorLabels(plan, f.to) } }], ports: tcp(f.port!) },
    );
}

export function networkPolicies(plan: DeploymentPlan): NetworkPolicy[] {
  const policies: NetworkPolicy[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: metadata(plan, `${plan.prefix}-default-deny`, stackLabels(plan, "network-policy")),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    policy(
      plan,
      `${plan.prefix}-allow-dns`,
      "network-policy",
      {},
      {
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    ),
  ];
  for (const w of plan.workloads) {
    const rules = { ingress: ingressRules(plan, w, plan.flows), egress: egressRules(plan, w, plan.flows) };
    if (rules.ingress.length + rules.egress.length === 0) continue;
    policies.push(policy(plan, w.name, w.role, { matchLabels: selectorLabels(plan, w.role) }, rules));
  }
  if (plan.tls.mode === "acme" && !plan.tls.issuer.existing) {
    // HTTP-01 challenges reach cert-manager's solver pods (in this namespace) through the Gateway.
    policies.push(
      policy(
        plan,
        `${plan.prefix}-acme-http01-solver`,
        "certificate",
        { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
        { ingress: [{ from: anywhere, ports: tcp(ACME_SOLVER_PORT) }] },
      ),
    );
  }
  return policies;
}
