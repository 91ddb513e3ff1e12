// What the cluster's Prometheus (the Prometheus Operator) needs to watch a stack, with
// monitoring.enabled: a PodMonitor per scrape job (each sets the `job` label the alert rules
// select on, SCRAPE_JOBS, and names the instance after its pod), a Probe of the public endpoint
// through the stack's blackbox exporter, the alert rules as a PrometheusRule, and the Grafana
// dashboard as a ConfigMap for Grafana's sidecar (label grafana_dashboard: "1"). Pure.
// PodMonitor, Probe and PrometheusRule need the operator's CRDs (monitoring.coreos.com/v1).
import { loadAlertRules, loadDashboard } from "../../monitoring/monitoring-files";
import type { DeploymentPlan, ScrapeJobPlan } from "../../plan/types";
import { metadata, selectorLabels, stackLabels } from "./meta";

const API_VERSION = "monitoring.coreos.com/v1";
/** The label Grafana's dashboard sidecar (kube-prometheus-stack, the Grafana chart) looks for. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" };

export interface MonitoringObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  [field: string]: unknown;
}

function objectMeta(plan: DeploymentPlan, name: string, labels: Record<string, string> = {}) {
  return metadata(plan, name, {
    ...stackLabels(plan, "monitoring"),
    ...labels,
  }) as MonitoringObject["metadata"];
}

/** The name of the container port a job scrapes on its pods (the workload's own, or a sidecar's). */
function portName(plan: DeploymentPlan, job: ScrapeJobPlan): string {
  const w = plan.workloads.find((workload) => workload.role === job.role);
  const ports = [...(w?.ports ?? []), ...(w?.sidecars ?? []).flatMap((s) => s.ports ?? [])];
  const port = ports.find((p) => p.containerPort === job.port);
  if (!port) throw new Error(`scrape job ${job.job}: no ${job.role} container port ${job.port} in the plan`);
  return port.name;
}

export function podMonitor(plan: DeploymentPlan, job: ScrapeJobPlan): MonitoringObject {
  return {
    apiVersion: API_VERSION,
    kind: "PodMonitor",
    metadata: objectMeta(plan, `${plan.prefix}-${job.job}`),
    spec: {
      selector: { matchLabels: selectorLabels(plan, job.role) },
      podMetricsEndpoints: [
        {
          port: portName(plan, job),
          path: job.path,
          ...(job.honorLabels ? { honorLabels: true } : {}),
          relabelings: [
            { targetLabel: "job", replacement: job.job },
            { sourceLabels: ["__meta_kubernetes_pod_name"], targetLabel: "instance" },
          ],
        },
      ],
    },
  };
}

export function probe(plan: DeploymentPlan, job: ScrapeJobPlan): MonitoringObject {
  if (!job.probe) throw new Error(`scrape job ${job.job} is not a probe`);
  return {
    apiVersion: API_VERSION,
    kind: "Probe",
    metadata: objectMeta(plan, `${plan.prefix}-${job.job}`),
    spec: {
      jobName: job.job,
      prober: { url: `${job.role}.${plan.kubernetes.namespace}.svc:${job.port}`, path: job.path },
      module: job.probe.module,
      targets: {
        staticConfig: {
          static: [job.probe.url],
          // The public URL the probe stands for, not the Service it fetched.
          relabelingConfigs: [{ targetLabel: "instance", replacement: job.probe.instance }],
        },
      },
    },
  };
}

export function prometheusRule(plan: DeploymentPlan): MonitoringObject {
  return {
    apiVersion: API_VERSION,
    kind: "PrometheusRule",
    metadata: objectMeta(plan, `${plan.prefix}-alerts`),
    spec: loadAlertRules({ backups: plan.backup.enabled }),
  };
}

export function dashboardConfigMap(plan: DeploymentPlan): MonitoringObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: objectMeta(plan, `${plan.prefix}-dashboard`, GRAFANA_DASHBOARD_LABEL),
    data: { "chatapi.json": JSON.stringify(loadDashboard(), null, 2) },
  };
}

/** Every monitoring object of a Kubernetes stack (none when monitoring is off). */
export function monitoringObjects(plan: DeploymentPlan): MonitoringObject[] {
  if (!plan.monitoring.enabled || plan.target !== "kubernetes") return [];
  return [
    ...plan.monitoring.jobs.map((job) => (job.probe ? probe(plan, job) : podMonitor(plan, job))),
    prometheusRule(plan),
    dashboardConfigMap(plan),
  ];
}
