// The Docker stack's Prometheus configuration, rendered from the plan's scrape jobs (pure): one
// scrape config per SCRAPE_JOBS label, the alert rules file, and a file_sd targets file per job.
// The targets files are what a deploy rewrites when instances change (Prometheus re-reads them
// every TARGETS_REFRESH_SECONDS), so scraping follows whatever instances run.
import { stringify } from "yaml";
import { prometheusAlerting } from "./alertmanager-config";
import type { MonitoringPlan, ProbePlan, ScrapeJobPlan } from "../plan/types";

export const PROMETHEUS_CONFIG = {
  config: "/etc/prometheus/prometheus.yml",
  rules: "/etc/prometheus/rules/chatapi.yml",
  targets: "/etc/prometheus/targets",
} as const;

/** How often Prometheus re-reads the targets files (it also watches them, where the mount lets it). */
export const TARGETS_REFRESH_SECONDS = 30;
/** The blackbox exporter's address inside the stack. */
const BLACKBOX = "blackbox-exporter";

export const targetsFile = (job: string) => `${PROMETHEUS_CONFIG.targets}/${job}.json`;

function scrapeConfig(plan: MonitoringPlan, job: ScrapeJobPlan): Record<string, unknown> {
  const base = {
    job_name: job.job,
    metrics_path: job.path,
    ...(job.honorLabels ? { honor_labels: true } : {}),
  };
  if (!job.probe) {
    return {
      ...base,
      file_sd_configs: [{ files: [targetsFile(job.job)], refresh_interval: `${TARGETS_REFRESH_SECONDS}s` }],
    };
  }
  return {
    ...base,
    params: { module: [job.probe.module] },
    static_configs: [{ targets: [job.probe.url] }],
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      // The public URL the probe stands for, not the internal address it fetched.
      { target_label: "instance", replacement: job.probe.instance },
      { target_label: "__address__", replacement: `${BLACKBOX}:${job.port}` },
    ],
    scrape_timeout: `${Math.min(plan.scrapeIntervalSeconds, 10)}s`,
  };
}

export function prometheusConfig(plan: MonitoringPlan): string {
  const config = {
    global: {
      scrape_interval: `${plan.scrapeIntervalSeconds}s`,
      scrape_timeout: `${Math.min(plan.scrapeIntervalSeconds, 10)}s`,
      evaluation_interval: `${plan.evaluationIntervalSeconds}s`,
    },
    rule_files: [PROMETHEUS_CONFIG.rules],
    ...(plan.alertmanager ? { alerting: prometheusAlerting("alertmanager") } : {}),
    scrape_configs: plan.jobs.map((job) => scrapeConfig(plan, job)),
  };
  return `# Rendered by the chatapi toolkit from the deployment plan; edit the stack config, not this file.\n${stringify(config, { lineWidth: 0 })}`;
}

/**
 * The file_sd targets of each job that is not a probe: `hosts[role]` names each running instance
 * of that role (the deploy's own list, so names may change from one release to the next).
 */
export function scrapeTargetFiles(
  plan: MonitoringPlan,
  hosts: Partial<Record<string, string[]>>,
): { path: string; source: { content: string } }[] {
  return plan.jobs
    .filter((job) => !job.probe)
    .map((job) => {
      const targets = (hosts[job.role] ?? []).map((host) => `${host}:${job.port}`);
      return {
        path: targetsFile(job.job),
        source: { content: `${JSON.stringify([{ targets, labels: {} }], null, 2)}\n` },
      };
    });
}

/** The blackbox exporter's one module: an HTTPS GET of /health that must answer 200 over TLS. */
export function blackboxConfig(probe: ProbePlan): string {
  return stringify(
    {
      modules: {
        [probe.module]: {
          prober: "http",
          timeout: "5s",
          http: {
            valid_status_codes: [200],
            fail_if_not_ssl: true,
            preferred_ip_protocol: "ip4",
            headers: { Host: probe.serverName },
            tls_config: { server_name: probe.serverName, insecure_skip_verify: !probe.verifyCertificate },
          },
        },
      },
    },
    { lineWidth: 0 },
  );
}
