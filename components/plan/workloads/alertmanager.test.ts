// Alertmanager on a Docker stack (monitoring.alertmanager.*): the config rules, the workload
// (127.0.0.1 only, on the monitoring network, data on a volume), Prometheus's alerting block, the
// SMTP password and the webhook URL kept out of every plain file, and the rendered configuration
// accepted by Alertmanager's own checker (amtool check-config, Debian's 0.25).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { amtool } from "../../../test/support/promtool";
import { planFor } from "../../../test/support/stack-plans";
import { resolveSecretValues } from "../../compose/secret-values";
import { containerSpecs } from "../../containers/container-spec";
import { renderAlertmanagerConfig } from "../../monitoring/alertmanager-config";
import type { DeploymentPlan, Role } from "../types";

const SMTP_PASSWORD = "smtp-pass-4c1d9e7a0b";
const WEBHOOK = "https://hooks.example.com/services/T000/B000/tok3n-9f8e7d";
const oncall = ["oncall@example.com", "lead@example.com"];

const alerting = (alertmanager: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  monitoring: { enabled: true, alertmanager: { enabled: true, ...alertmanager } },
  smtp: { host: "smtp.example.com", port: 587 },
  ...more,
});
const workload = (plan: DeploymentPlan, role: Role) => plan.workloads.find((w) => w.role === role)!;
const plainFile = (plan: DeploymentPlan, role: Role, path: string) => {
  const file = workload(plan, role).files.find((f) => f.path === path);
  if (!file || !("content" in file.source)) throw new Error(`${role} has no plain file ${path}`);
  return file.source.content;
};
const problems = (build: () => unknown): string => {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the config was accepted");
};

const scratch = mkdtempSync(join(tmpdir(), "chatapi-alertmanager-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
async function checkConfig(name: string, text: string) {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return amtool(["check-config", file]);
}

describe("monitoring.alertmanager config rules", () => {
  it("needs monitoring on, the docker target, somewhere to send, an SMTP host for mail and a port of its own", () => {
    expect(
      problems(() => planFor("local", { monitoring: { alertmanager: { enabled: true, emailTo: oncall } } })),
    ).toContain(
      "chatapi:monitoring.alertmanager.enabled: needs chatapi:monitoring.enabled (Alertmanager receives the alerts of the stack's Prometheus)",
    );
    expect(problems(() => planFor("local", alerting({})))).toContain(
      "chatapi:monitoring.alertmanager.emailTo: is empty and no webhook is set: Alertmanager would send its alerts nowhere",
    );
    expect(problems(() => planFor("local", alerting({ emailTo: oncall }, { smtp: {} })))).toContain(
      "chatapi:smtp.host: is required when chatapi:monitoring.alertmanager.emailTo is set",
    );
    expect(problems(() => planFor("local", alerting({ emailTo: oncall, port: 9090 })))).toContain(
      "chatapi:monitoring.alertmanager.port: equals chatapi:monitoring.prometheusPort",
    );
    expect(problems(() => planFor("local", alerting({ emailTo: ["not-an-address"] })))).toContain(
      "chatapi:monitoring.alertmanager.emailTo",
    );
    expect(problems(() => planFor("prod", alerting({ emailTo: oncall })))).toContain(
      "chatapi:monitoring.alertmanager.enabled: is for the docker target",
    );
    expect(problems(() => planFor("local", {}, { "chatapi:alertmanagerWebhookUrl": WEBHOOK }))).toContain(
      "chatapi:alertmanagerWebhookUrl: is set but chatapi:monitoring.alertmanager.enabled is false (it would be ignored); expected set chatapi:monitoring.alertmanager.enabled to true, or remove it; got [secret]",
    );
    const badUrl = problems(() =>
      planFor("local", alerting({}), { "chatapi:alertmanagerWebhookUrl": 'https://x.example.com/"a' }),
    );
    expect(badUrl).toContain("chatapi:alertmanagerWebhookUrl");
    expect(badUrl).not.toContain('x.example.com/"a');
  });
});

describe("Alertmanager on a Docker stack", () => {
  it("is absent unless monitoring.alertmanager.enabled; Prometheus then has no alerting block", () => {
    const plan = planFor("local", { monitoring: { enabled: true } });
    expect(plan.workloads.map((w) => w.role)).not.toContain("alertmanager");
    expect(plan.volumes.map((v) => v.name)).not.toContain("alertmanager-data");
    expect(plan.images.alertmanager).toBeUndefined();
    expect(plan.monitoring.alertmanager).toBeUndefined();
    expect(plainFile(plan, "prometheus", "/etc/prometheus/prometheus.yml")).not.toContain("alerting");
  });

  it("is published on 127.0.0.1 only, reached by Prometheus on the monitoring network, its data on a volume", () => {
    const plan = planFor("local", alerting({ emailTo: oncall, port: 19093 }));
    const specs = containerSpecs(plan, "0000beef");
    const published = specs.flatMap((s) => s.ports.map((p) => ({ service: s.service, ...p.published })));
    expect(published.filter((p) => p.service === "alertmanager")).toEqual([
      { service: "alertmanager", hostPort: 19093, hostAddress: "127.0.0.1" },
    ]);
    const am = specs.find((s) => s.service === "alertmanager")!;
    expect(am.networks.map((n) => n.network).sort()).toEqual(["egress", "monitoring", "public"]);
    expect(am.networks.find((n) => n.network === "monitoring")?.aliases).toEqual(["alertmanager"]);
    expect(workload(plan, "alertmanager").mounts).toEqual([
      { volume: "alertmanager-data", path: "/alertmanager", readOnly: false },
    ]);
    expect(plan.volumes.find((v) => v.name === "alertmanager-data")?.resourceName).toBe(
      "chatapi-local-alertmanager-data",
    );
    expect(workload(plan, "alertmanager").command).toContain("--web.external-url=http://127.0.0.1:19093/");
    expect(workload(plan, "alertmanager").security).toMatchObject({
      user: "65534:65534",
      readOnlyRootFilesystem: true,
    });
    const prometheus = parse(plainFile(plan, "prometheus", "/etc/prometheus/prometheus.yml")) as {
      alerting: unknown;
    };
    expect(prometheus.alerting).toEqual({
      alertmanagers: [{ static_configs: [{ targets: ["alertmanager:9093"] }] }],
    });
    expect(plan.images.alertmanager).toEqual({ ref: "prom/alertmanager:v0.27.0", pull: true });
    const offline = planFor("local", alerting({ emailTo: oncall }, { images: { preset: "offline" } }));
    expect(offline.images.alertmanager).toEqual({ ref: "chatapi-local/alertmanager:0", pull: false });
  });

  it("mails through the stack's SMTP settings, the password read from its secret file, never written out", () => {
    const plan = planFor(
      "local",
      alerting({ emailTo: oncall }, { smtp: { host: "smtp.example.com", port: 587, user: "alerts" } }),
      { "chatapi:smtpPassword": SMTP_PASSWORD },
    );
    const config = parse(plainFile(plan, "alertmanager", "/etc/alertmanager/alertmanager.yml")) as {
      global: Record<string, unknown>;
      receivers: { email_configs: unknown[] }[];
    };
    expect(config.global).toMatchObject({
      smtp_smarthost: "smtp.example.com:587",
      smtp_from: "noreply@example.com",
      smtp_auth_username: "alerts",
      smtp_auth_password_file: "/run/secrets/smtp_password",
      smtp_require_tls: true,
    });
    expect(config.receivers[0]!.email_configs).toEqual([
      { to: "oncall@example.com, lead@example.com", send_resolved: true },
    ]);
    expect(workload(plan, "alertmanager").files.map((f) => f.source)).toContainEqual({
      secret: "smtp_password",
    });
    expect(JSON.stringify(plan)).not.toContain(SMTP_PASSWORD);
    // Without credentials (a sink such as Mailpit) no STARTTLS is demanded; 465 is TLS anyway.
    const sink = planFor(
      "local",
      alerting({ emailTo: oncall }, { smtp: { host: "172.17.0.1", port: 1025 } }),
    );
    expect(sink.monitoring.alertmanager?.email).toMatchObject({
      requireTls: false,
      smarthost: "172.17.0.1:1025",
    });
    expect(sink.monitoring.alertmanager?.email?.passwordFile).toBeUndefined();
    const tls = planFor(
      "local",
      alerting({ emailTo: oncall }, { smtp: { host: "smtp.example.com", port: 465, user: "a" } }),
    );
    expect(tls.monitoring.alertmanager?.email?.requireTls).toBe(false);
  });

  it("keeps a webhook URL in a secret configuration, never in a plain file", () => {
    const plan = planFor("local", alerting({}), { "chatapi:alertmanagerWebhookUrl": WEBHOOK });
    const am = workload(plan, "alertmanager");
    expect(am.command).toContain("--config.file=/run/secrets/alertmanager_config");
    expect(am.files.map((f) => f.source)).toEqual([{ secret: "alertmanager_config" }]);
    expect(JSON.stringify(plan)).not.toContain("hooks.example.com");
    const values = resolveSecretValues(plan, {
      existing: {},
      config: { alertmanagerWebhookUrl: WEBHOOK },
      password: (n) => "x".repeat(n),
      selfSigned: { chain: "CHAIN", privateKey: "KEY" },
    });
    const config = parse(values.alertmanager_config) as {
      receivers: { webhook_configs: unknown[]; email_configs?: unknown }[];
    };
    expect(config.receivers[0]).toEqual({
      name: "chatapi-oncall",
      webhook_configs: [{ url: WEBHOOK, send_resolved: true }],
    });
  });
});

describe("the rendered Alertmanager configuration under amtool check-config (Alertmanager 0.25)", () => {
  const plans = () => ({
    mail: planFor(
      "local",
      alerting({ emailTo: oncall }, { smtp: { host: "smtp.example.com", port: 587, user: "alerts" } }),
      { "chatapi:smtpPassword": SMTP_PASSWORD },
    ),
    both: planFor("local", alerting({ emailTo: oncall, groupWaitSeconds: 5, repeatIntervalHours: 12 }), {
      "chatapi:alertmanagerWebhookUrl": WEBHOOK,
    }),
  });

  it("accepts every shape the stack renders", async () => {
    const { mail, both } = plans();
    for (const [name, text] of [
      ["mail.yml", renderAlertmanagerConfig(mail.monitoring.alertmanager!)],
      ["both.yml", renderAlertmanagerConfig(both.monitoring.alertmanager!, WEBHOOK)],
    ] as const) {
      const checked = await checkConfig(name, text);
      expect(checked.output, name).toContain("SUCCESS");
      expect(checked.output).toContain("1 receivers");
      expect(checked.output).toContain("1 inhibit rules");
      expect(checked.code, checked.output).toBe(0);
    }
    expect(renderAlertmanagerConfig(both.monitoring.alertmanager!, WEBHOOK)).toContain("group_wait: 5s");
  });

  it("rejects a broken one (the check can fail)", async () => {
    const text = renderAlertmanagerConfig(plans().mail.monitoring.alertmanager!).replace(
      "receiver: chatapi-oncall",
      "receiver: nobody",
    );
    const checked = await checkConfig("broken.yml", text);
    expect(checked.code).not.toBe(0);
    expect(checked.output).toContain('undefined receiver "nobody"');
  });
});
