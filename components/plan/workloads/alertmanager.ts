// Alertmanager on a Docker stack (monitoring.alertmanager.enabled): Prometheus sends it the
// alerts of the shared rules; it mails them through the stack's SMTP server (smtp.*, the same
// settings and password secret the workers use) and/or POSTs them to a webhook. Published on the
// host's loopback only, like Prometheus; its silences and notification log live on a volume.
import {
  ALERTMANAGER_CONFIG,
  ALERTMANAGER_DATA,
  ALERTMANAGER_PORT,
  alertmanagerConfigParts,
} from "../../monitoring/alertmanager-config";
import { secretPath } from "../secrets";
import type { AlertmanagerPlan, FlowPlan, SecretPlan, VolumePlan, WorkloadPlan } from "../types";
import { MiB, type PlanContext, secretFile, tmpfs } from "./common";
import { monitoringWorkload, wgetHealth } from "./monitoring";

/** The Alertmanager of a Docker stack with monitoring on, or undefined when it has none. */
export function alertmanagerPlan(ctx: PlanContext): AlertmanagerPlan | undefined {
  const s = ctx.settings;
  const a = s.monitoring.alertmanager;
  if (!(a.enabled && s.monitoring.enabled && s.target === "docker")) return undefined;
  const host = s.smtp.host;
  const email =
    a.emailTo.length > 0 && host
      ? {
          to: a.emailTo,
          from: s.smtp.from,
          smarthost: `${host}:${s.smtp.port}`,
          ...(s.smtp.user ? { username: s.smtp.user } : {}),
          ...(ctx.provided.has("smtpPassword") ? { passwordFile: secretPath("smtp_password") } : {}),
          // Credentials never go in clear: STARTTLS is required when they are sent (465 is TLS
          // from the first byte); a sink without STARTTLS (Mailpit) takes mail without them.
          requireTls: Boolean(s.smtp.user) && s.smtp.port !== 465,
        }
      : undefined;
  return {
    port: a.port,
    ...(email ? { email } : {}),
    webhook: ctx.provided.has("alertmanagerWebhookUrl"),
    groupWaitSeconds: a.groupWaitSeconds,
    repeatIntervalHours: a.repeatIntervalHours,
  };
}

/** The webhook URL and the configuration that holds it (no secret without a webhook). */
export function alertmanagerSecrets(plan: AlertmanagerPlan | undefined): SecretPlan[] {
  if (!plan?.webhook) return [];
  return [
    {
      name: "alertmanager_webhook_url",
      source: { kind: "config", key: "alertmanagerWebhookUrl" },
      description: "Alertmanager's webhook receiver URL",
    },
    {
      name: "alertmanager_config",
      source: { kind: "template", parts: alertmanagerConfigParts(plan) },
      description: "alertmanager.yml with the webhook URL (Alertmanager 0.25 reads no URL file)",
    },
  ];
}

export function alertmanagerWorkload(ctx: PlanContext, plan: AlertmanagerPlan): WorkloadPlan {
  const configPath = plan.webhook ? secretPath("alertmanager_config") : ALERTMANAGER_CONFIG;
  const [config] = alertmanagerConfigParts(plan);
  return monitoringWorkload(ctx, "alertmanager", {
    description: "Alertmanager (Prometheus's alerts to mail and webhook; 127.0.0.1 only)",
    command: [
      `--config.file=${configPath}`,
      `--storage.path=${ALERTMANAGER_DATA}`,
      `--web.listen-address=:${ALERTMANAGER_PORT}`,
      `--web.external-url=http://127.0.0.1:${plan.port}/`,
      // One instance: no gossip port, no cluster peers to look for.
      "--cluster.listen-address=",
    ],
    ports: [
      {
        name: "http",
        containerPort: ALERTMANAGER_PORT,
        protocol: "tcp",
        // Loopback only: Alertmanager has no authentication (anyone reaching it could silence alerts).
        published: { hostPort: plan.port, hostAddress: "127.0.0.1" },
      },
    ],
    health: wgetHealth(ALERTMANAGER_PORT, "/-/ready"),
    files: [
      plan.webhook
        ? secretFile("alertmanager_config")
        : { path: ALERTMANAGER_CONFIG, source: { content: config as string } },
      ...(plan.email?.passwordFile ? [secretFile("smtp_password")] : []),
    ],
    tmpfs: [tmpfs("/tmp", 16)],
    mounts: [{ volume: "alertmanager-data", path: ALERTMANAGER_DATA, readOnly: false }],
    metrics: { port: ALERTMANAGER_PORT, path: "/metrics" },
  });
}

export function alertmanagerVolume(ctx: PlanContext): VolumePlan {
  return {
    name: "alertmanager-data",
    resourceName: `${ctx.prefix}-alertmanager-data`,
    purpose: "Alertmanager's silences and notification log",
    sizeBytes: 100 * MiB,
    retain: false,
  };
}

/** Prometheus → Alertmanager on the monitoring network; Alertmanager → the SMTP server and webhook. */
export function alertmanagerFlows(plan: AlertmanagerPlan, smtpPort: number): FlowPlan[] {
  return [
    {
      from: "prometheus",
      to: "alertmanager",
      port: ALERTMANAGER_PORT,
      purpose: "Prometheus sends its alerts",
      network: "monitoring",
    },
    ...(plan.email
      ? [
          {
            from: "alertmanager" as const,
            to: "internet" as const,
            port: smtpPort,
            purpose: "alert mail (SMTP)",
          },
        ]
      : []),
    ...(plan.webhook
      ? [{ from: "alertmanager" as const, to: "internet" as const, port: 443, purpose: "alert webhook" }]
      : []),
  ];
}
