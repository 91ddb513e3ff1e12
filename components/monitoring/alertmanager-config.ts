// The Docker stack's Alertmanager configuration, rendered from the plan (pure): one receiver that
// mails through the stack's SMTP server and/or POSTs to a webhook, and Prometheus's `alerting:`
// block that points at it. The SMTP password stays in its secret file (smtp_auth_password_file);
// the webhook URL has no file form in Alertmanager 0.25 (Debian's), so a configuration holding it
// is a template secret of its own, never a plain file.
import { stringify } from "yaml";
import type { AlertmanagerPlan, TemplatePart } from "../plan/types";

export const ALERTMANAGER_CONFIG = "/etc/alertmanager/alertmanager.yml";
export const ALERTMANAGER_DATA = "/alertmanager";
/** Alertmanager's port inside the stack (its image's default). */
export const ALERTMANAGER_PORT = 9093;
/** The one receiver every alert goes to. */
export const RECEIVER = "chatapi-oncall";

/** Where the webhook URL goes in the rendered YAML, until the template puts the secret there. */
const WEBHOOK_SLOT = "__chatapi_alertmanager_webhook_url__";

function configObject(plan: AlertmanagerPlan): Record<string, unknown> {
  const email = plan.email;
  return {
    global: {
      resolve_timeout: "5m",
      ...(email
        ? {
            smtp_smarthost: email.smarthost,
            smtp_from: email.from,
            ...(email.username ? { smtp_auth_username: email.username } : {}),
            ...(email.passwordFile ? { smtp_auth_password_file: email.passwordFile } : {}),
            smtp_require_tls: email.requireTls,
          }
        : {}),
    },
    route: {
      receiver: RECEIVER,
      // One notification per alert name: three instances down make one mail, not three.
      group_by: ["alertname"],
      group_wait: `${plan.groupWaitSeconds}s`,
      group_interval: "5m",
      repeat_interval: `${plan.repeatIntervalHours}h`,
    },
    // A stack-wide outage says it all: no mail per instance on top of it.
    inhibit_rules: [
      {
        source_matchers: ['alertname="ChatAPIDown"'],
        target_matchers: ['alertname="ChatAPIInstanceDown"', 'job="chatapi-api"'],
      },
    ],
    receivers: [
      {
        name: RECEIVER,
        ...(email ? { email_configs: [{ to: email.to.join(", "), send_resolved: true }] } : {}),
        ...(plan.webhook ? { webhook_configs: [{ url: WEBHOOK_SLOT, send_resolved: true }] } : {}),
      },
    ],
  };
}

const HEADER =
  "# Rendered by the chatapi toolkit from the deployment plan; edit the stack config, not this file.\n";

/**
 * The configuration as template parts: plain text, and (with a webhook) the secret
 * alertmanager_webhook_url in double quotes (its schema allows no quote, backslash or space).
 */
export function alertmanagerConfigParts(plan: AlertmanagerPlan): TemplatePart[] {
  const text = HEADER + stringify(configObject(plan), { lineWidth: 0 });
  const slot = text.indexOf(WEBHOOK_SLOT);
  if (slot < 0) return [text];
  return [
    text.slice(0, slot),
    '"',
    { secret: "alertmanager_webhook_url" },
    '"',
    text.slice(slot + WEBHOOK_SLOT.length),
  ];
}

/** The configuration with the webhook URL given (for checks: amtool, tests). */
export function renderAlertmanagerConfig(plan: AlertmanagerPlan, webhookUrl?: string): string {
  return alertmanagerConfigParts(plan)
    .map((part) => {
      if (typeof part === "string") return part;
      if (webhookUrl === undefined) throw new Error("the configuration needs the webhook URL");
      return webhookUrl;
    })
    .join("");
}

/** Prometheus's `alerting:` block: the stack's Alertmanager on the monitoring network. */
export function prometheusAlerting(host: string): Record<string, unknown> {
  return { alertmanagers: [{ static_configs: [{ targets: [`${host}:${ALERTMANAGER_PORT}`] }] }] };
}
