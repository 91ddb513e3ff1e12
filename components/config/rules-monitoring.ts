// Rules of the Alertmanager keys (monitoring.alertmanager.*): it runs only beside the stack's own
// Prometheus (a Docker stack with monitoring on), on a host port of its own, and it must have
// somewhere to send alerts: mail through the stack's SMTP settings, a webhook, or both.
import { type ConfigIssue, NAMESPACE, REDACTED } from "./issues";
import type { SecretConfigKey, StackSettings } from "./types";

const k = (key: string) => `${NAMESPACE}:${key}`;
const am = (key: string) => k(`monitoring.alertmanager.${key}`);

export function alertmanagerIssues(
  s: StackSettings,
  secrets: Partial<Record<SecretConfigKey, string>>,
): ConfigIssue[] {
  const a = s.monitoring.alertmanager;
  const webhook = secrets.alertmanagerWebhookUrl !== undefined;
  if (!a.enabled) {
    return webhook
      ? [
          {
            key: k("alertmanagerWebhookUrl"),
            problem: `is set but ${am("enabled")} is false (it would be ignored)`,
            expected: `set ${am("enabled")} to true, or remove it`,
            actual: REDACTED,
          },
        ]
      : [];
  }
  const issues: ConfigIssue[] = [];
  if (s.target !== "docker")
    issues.push({
      key: am("enabled"),
      problem:
        "is for the docker target (on Kubernetes the Prometheus Operator's Alertmanager receives the PrometheusRule's alerts)",
      expected: "false",
      actual: "true",
    });
  if (!s.monitoring.enabled)
    issues.push({
      key: am("enabled"),
      problem: `needs ${k("monitoring.enabled")} (Alertmanager receives the alerts of the stack's Prometheus)`,
      expected: `${k("monitoring.enabled")} true, or this false`,
      actual: "true",
    });
  if (a.emailTo.length === 0 && !webhook)
    issues.push({
      key: am("emailTo"),
      problem: "is empty and no webhook is set: Alertmanager would send its alerts nowhere",
      expected: `one address or more (mailed through ${k("smtp.host")}), or a webhook: pulumi config set --secret ${k("alertmanagerWebhookUrl")} '<url>'`,
    });
  if (a.emailTo.length > 0 && !s.smtp.host)
    issues.push({
      key: k("smtp.host"),
      problem: `is required when ${am("emailTo")} is set (Alertmanager mails through the stack's SMTP server)`,
      expected: "a DNS host name",
    });
  if (a.port === s.monitoring.prometheusPort)
    issues.push({
      key: am("port"),
      problem: `equals ${k("monitoring.prometheusPort")} (both are published on 127.0.0.1)`,
      expected: "two different ports",
      actual: String(a.port),
    });
  return issues;
}
