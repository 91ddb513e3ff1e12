// The monitoring files both targets ship: the alert rules (a Prometheus rules file) and the
// Grafana dashboard. Pure readers, so the Docker target, the Kubernetes target and the tests load
// the same files the same way. The chart has copies in charts/chatapi/files/ (Helm reads only
// files inside the chart); a test keeps them identical.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const ALERT_RULES_FILE = join(__dirname, "alert-rules.yaml");
export const DASHBOARD_FILE = join(__dirname, "dashboard.json");

/**
 * Scrape job names the alert rules and the dashboard select on. Whatever scrapes the stack must
 * give its targets these `job` labels (a scrape config's job_name; a ServiceMonitor relabeling).
 */
export const SCRAPE_JOBS = {
  api: "chatapi-api",
  worker: "chatapi-worker",
  backup: "chatapi-backup",
  postgres: "postgres",
  redis: "redis",
  rabbitmq: "rabbitmq",
  nginx: "nginx",
  node: "node",
  /** The blackbox exporter's probe of the public HTTPS endpoint (certificate expiry). */
  httpsProbe: "chatapi-https",
} as const;

/** The group of the rules that need backups (left out when chatapi:backup.enabled is false). */
export const BACKUP_RULE_GROUP = "chatapi.backups";

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export interface RuleFile {
  groups: RuleGroup[];
}

export function loadAlertRules(options: { backups?: boolean } = {}): RuleFile {
  const file = parse(readFileSync(ALERT_RULES_FILE, "utf8")) as RuleFile;
  if (options.backups === false) file.groups = file.groups.filter((g) => g.name !== BACKUP_RULE_GROUP);
  return file;
}

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as Dashboard;
}

/** Every query of the dashboard, with the panel it belongs to. */
export function dashboardQueries(
  dashboard: Dashboard,
): Array<{ panel: string; refId: string; expr: string }> {
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })),
  );
}

/** A dashboard query as Prometheus would get it from Grafana (its variables replaced). */
export function expandDashboardVariables(
  expr: string,
  values: { rateInterval: string; namespace: string } = { rateInterval: "1m", namespace: ".*" },
): string {
  return expr
    .replaceAll("$__rate_interval", values.rateInterval)
    .replaceAll("${namespace}", values.namespace)
    .replaceAll("$namespace", values.namespace);
}
