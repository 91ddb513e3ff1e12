// The monitoring part of a Docker stack for real, as an operator meets it: `scripts/local up
// --alertmanager` (monitoring with Alertmanager) under its own stack name and ports, mailing a
// Mailpit of the test's own on the Docker bridge, then Prometheus's own API on 127.0.0.1:
//   - every scrape job the alert rules select on (SCRAPE_JOBS) has its targets, and all are up;
//   - Prometheus answers on the host's loopback only, nothing else of the monitoring part is
//     published, and nginx still answers 404 for /metrics;
//   - a stopped API container fires ChatAPIInstanceDown within the rule's `for` plus one scrape
//     and one evaluation interval, never before `for`, and the alert resolves once it is back;
//   - the fired alert reaches Alertmanager (its API on 127.0.0.1) and arrives as a mail in
//     Mailpit within Alertmanager's group_wait after firing (the time from `docker stop` printed).
// Run it under the machine's Docker lock: flock /tmp/chatapi-docker.lock npx vitest run <this file>
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PrivateMailpit } from "../../toolbox/private-services";
import { dockerBridgeAddress } from "../../toolbox/docker-bridge";
import { instanceContainer } from "../support/local-stack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SCRAPE_JOBS, loadAlertRules } from "../../components/monitoring/monitoring-files";
import { docker, run } from "../../toolbox/exec";
import { stackDir } from "../../scripts/lib/stack-dir";
import { repoRoot } from "../support/paths";
import { freePort, waitFor } from "../../toolbox/processes";

const stack = `mt${randomUUID().slice(0, 6)}`;
const prefix = `chatapi-${stack}`;
const dir = stackDir(stack);
let ports: { http: number; https: number; prometheus: number; alertmanager: number };
let prometheus: string;
let mailpit: PrivateMailpit;
const oncall = `oncall-${stack}@example.com`;
let firstUp: { exitCode: number; all: string };

const MONITORING_IMAGES = [
  "chatapi-local/prometheus:2",
  "chatapi-local/alertmanager:0",
  "chatapi-local/postgres-exporter:0",
  "chatapi-local/redis-exporter:1",
  "chatapi-local/nginx-exporter:0",
  "chatapi-local/blackbox-exporter:0",
  "chatapi-local/node-exporter:1",
  "chatapi-local/chatapi:1.0.0",
];

const local = (command: "up" | "down", ...extra: string[]) =>
  run(
    "bash",
    [
      join(repoRoot, "scripts", "local"),
      command,
      "--stack",
      stack,
      ...(command === "up"
        ? [
            "--skip-setup",
            "--alertmanager",
            "--stack-file",
            "local",
            "--set",
            `nginx.httpPort=${ports.http}`,
            "--set",
            `nginx.httpsPort=${ports.https}`,
            "--set",
            `monitoring.prometheusPort=${ports.prometheus}`,
            "--set",
            `monitoring.alertmanager.port=${ports.alertmanager}`,
            "--set",
            `monitoring.alertmanager.emailTo=${JSON.stringify([oncall])}`,
            "--set",
            `smtp.host=${mailpit.smtp.host}`,
            "--set",
            `smtp.port=${mailpit.smtp.port}`,
          ]
        : []),
      ...extra,
    ],
    { reject: false, timeout: 900_000 },
  );

interface Target {
  labels: { job: string; instance: string };
  health: "up" | "down" | "unknown";
  lastError: string;
}
interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${prometheus}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return ((await response.json()) as { data: T }).data;
}
interface MailSummary {
  ID: string;
  Subject: string;
  To: { Address: string }[];
}
/** The mails Mailpit holds for one recipient (its HTTP API). */
async function mailTo(address: string): Promise<MailSummary[]> {
  const query = encodeURIComponent(`to:"${address}"`);
  const response = await fetch(`${mailpit.api}/api/v1/search?query=${query}`);
  if (!response.ok) throw new Error(`mailpit search: ${response.status}`);
  return ((await response.json()) as { messages: MailSummary[] }).messages;
}
async function mailBody(id: string): Promise<string> {
  const response = await fetch(`${mailpit.api}/api/v1/message/${id}`);
  if (!response.ok) throw new Error(`mailpit message ${id}: ${response.status}`);
  const message = (await response.json()) as { Text: string; HTML: string };
  return `${message.Text}\n${message.HTML}`;
}

const targets = async () => (await api<{ activeTargets: Target[] }>("/api/v1/targets")).activeTargets;
const alerts = async () => (await api<{ alerts: Alert[] }>("/api/v1/alerts")).alerts;

/** Alertmanager's group_wait, read back from the configuration the stack runs. */
function groupWaitSeconds(): number {
  const config = parse(
    readFileSync(join(dir, "files", "alertmanager", "etc", "alertmanager", "alertmanager.yml"), "utf8"),
  ) as { route: { group_wait: string } };
  return Number.parseInt(config.route.group_wait, 10);
}

/** The rendered interval settings, read back from the Prometheus config the stack runs. */
function intervals(): { scrape: number; evaluation: number } {
  const config = parse(
    readFileSync(join(dir, "files", "prometheus", "etc", "prometheus", "prometheus.yml"), "utf8"),
  ) as { global: { scrape_interval: string; evaluation_interval: string } };
  return {
    scrape: Number.parseInt(config.global.scrape_interval, 10),
    evaluation: Number.parseInt(config.global.evaluation_interval, 10),
  };
}

beforeAll(async () => {
  for (const image of MONITORING_IMAGES) {
    const found = await run("docker", ["image", "inspect", image], { reject: false });
    if (found.exitCode !== 0)
      throw new Error(
        `image ${image} is missing: run scripts/setup --for test (it builds the offline and app images)`,
      );
  }
  ports = {
    http: await freePort(),
    https: await freePort(),
    prometheus: await freePort(),
    alertmanager: await freePort(),
  };
  mailpit = await PrivateMailpit.start(await dockerBridgeAddress());
  prometheus = `http://127.0.0.1:${ports.prometheus}`;
  firstUp = await local("up");
  if (firstUp.exitCode !== 0) throw new Error(`scripts/local up failed:\n${firstUp.all.slice(-6000)}`);
}, 900_000);

afterAll(async () => {
  mailpit?.dispose();
  if (!ports) return;
  const down = await local("down", "--volumes");
  if (down.exitCode !== 0) console.error(down.all);
  const left = await docker("ps", "-aq", "--filter", `label=chatapi.stack=${stack}`);
  if (left) console.error(`left behind: containers ${left}`);
}, 300_000);

describe("scripts/local up --alertmanager on the real Docker engine", () => {
  it("says where Prometheus and Alertmanager are, and every scrape job of the alert rules has its targets up", async () => {
    expect(firstUp.all).toContain(`Prometheus  http://127.0.0.1:${ports.prometheus}/`);
    expect(firstUp.all).toContain(
      `Alertmanager http://127.0.0.1:${ports.alertmanager}/  (loopback only: alerts, silences; sends to mail to ${oncall} via ${mailpit.smtp.host}:${mailpit.smtp.port})`,
    );
    let last: Target[] = [];
    await waitFor(
      "every target up",
      async () => {
        last = await targets();
        const jobs = new Set(last.map((t) => t.labels.job));
        return Object.values(SCRAPE_JOBS).every((j) => jobs.has(j)) && last.every((t) => t.health === "up");
      },
      180_000,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}:\n${last.map((t) => `${t.labels.job} ${t.labels.instance} ${t.health} ${t.lastError}`).join("\n")}`,
      );
    });
    const table = last
      .map((t) => [t.labels.job, t.labels.instance, t.health] as const)
      .sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
    console.log(
      `monitoring targets (job | instance | health):\n${table.map((row) => row.join(" | ")).join("\n")}`,
    );
    expect(table).toEqual([
      ["chatapi-api", "api-1:8000", "up"],
      ["chatapi-api", "api-2:8000", "up"],
      ["chatapi-backup", "backup:9000", "up"],
      ["chatapi-https", `https://localhost:${ports.https}/health`, "up"],
      ["chatapi-worker", "worker-1:9000", "up"],
      ["nginx", "nginx-exporter:9113", "up"],
      ["node", "node-exporter:9100", "up"],
      ["postgres", "postgres-exporter:9187", "up"],
      ["rabbitmq", "rabbitmq:15692", "up"],
      ["redis", "redis-exporter:9121", "up"],
    ]);
    // The exporters really reach what they report on, and the probe sees the served certificate.
    const value = async (expr: string) =>
      (
        await api<{ result: { value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result[0]?.value[1];
    for (const up of ["pg_up", "redis_up", "nginx_up", "probe_success"])
      expect(await value(up), up).toBe("1");
    expect(Number(await value("probe_ssl_earliest_cert_expiry - time()"))).toBeGreaterThan(300 * 86400);
    expect(
      Number(await value('node_filesystem_size_bytes{mountpoint="/host/docker-volumes"}')),
    ).toBeGreaterThan(0);
  }, 240_000);

  it("answers on the host's loopback only; nothing else of it is published; nginx still hides /metrics", async () => {
    const published = await docker(
      "ps",
      "--filter",
      `label=chatapi.stack=${stack}`,
      "--format",
      "{{.Names}} {{.Ports}}",
    );
    // Only host bindings ("address:port->port"), not the ports an image merely exposes.
    const withPorts = published
      .split("\n")
      .map((line) => {
        const [name, ...ports] = line.split(" ");
        return `${name} ${ports
          .join(" ")
          .split(", ")
          .filter((p) => p.includes("->"))
          .join(", ")}`;
      })
      .filter((line) => line.includes("->"))
      .sort();
    expect(withPorts).toEqual([
      `${prefix}-alertmanager 127.0.0.1:${ports.alertmanager}->9093/tcp`,
      `${prefix}-nginx 127.0.0.1:${ports.http}->8080/tcp, 127.0.0.1:${ports.https}->8443/tcp`,
      `${prefix}-prometheus 127.0.0.1:${ports.prometheus}->9090/tcp`,
    ]);
    // Prometheus found its Alertmanager on the monitoring network.
    const found = await api<{ activeAlertmanagers: { url: string }[] }>("/api/v1/alertmanagers");
    expect(found.activeAlertmanagers.map((a) => a.url)).toEqual(["http://alertmanager:9093/api/v2/alerts"]);
    const curl = await run(
      "curl",
      [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--cacert",
        join(dir, "ca.pem"),
        `https://localhost:${ports.https}/metrics`,
      ],
      { reject: false },
    );
    expect(curl.stdout).toBe("404");
  });

  it("fires ChatAPIInstanceDown for a stopped API container within `for` + one scrape + one evaluation, and mails it", async () => {
    const rule = loadAlertRules()
      .groups.flatMap((g) => g.rules)
      .find((r) => r.alert === "ChatAPIInstanceDown")!;
    const forSeconds = Number.parseInt(rule.for ?? "0", 10) * (rule.for?.endsWith("m") ? 60 : 1);
    const { scrape, evaluation } = intervals();
    const ours = (a: Alert) =>
      a.labels.alertname === "ChatAPIInstanceDown" && a.labels.instance === "api-1:8000";
    expect((await alerts()).filter(ours)).toEqual([]);

    const stopIssued = Date.now();
    const api1 = await instanceContainer(stack, "api", 1);
    await docker("stop", api1);
    const stopped = Date.now();
    let pending: number | undefined;
    let firing: Alert | undefined;
    await waitFor(
      "ChatAPIInstanceDown firing for api-1",
      async () => {
        const mine = (await alerts()).filter(ours);
        if (!pending && mine.some((a) => a.state === "pending")) pending = Date.now();
        firing = mine.find((a) => a.state === "firing");
        return firing !== undefined;
      },
      (forSeconds + scrape + evaluation + 60) * 1000,
    );
    const fired = Date.now();
    // Alertmanager has it, and mails it after group_wait (rendered config) through the stack's SMTP settings.
    const groupWait = groupWaitSeconds();
    let mail: MailSummary | undefined;
    await waitFor(
      "the alert mail in Mailpit",
      async () => {
        mail = (await mailTo(oncall)).find((m) => m.Subject.includes("ChatAPIInstanceDown"));
        return mail !== undefined;
      },
      (groupWait + 60) * 1000,
    );
    const mailed = Date.now();
    const inAlertmanager = (await (
      await fetch(
        `http://127.0.0.1:${ports.alertmanager}/api/v2/alerts?filter=alertname%3D%22ChatAPIInstanceDown%22`,
      )
    ).json()) as { labels: Record<string, string> }[];
    expect(inAlertmanager.map((a) => a.labels.instance)).toContain("api-1:8000");
    await docker("start", api1);
    const started = Date.now();
    await waitFor("the alert to resolve", async () => (await alerts()).filter(ours).length === 0, 120_000);
    const resolved = Date.now();

    const s = (ms: number) => (ms / 1000).toFixed(1);
    console.log(
      `ChatAPIInstanceDown (for ${forSeconds} s, scrape ${scrape} s, evaluation ${evaluation} s): docker stop took ${s(stopped - stopIssued)} s; ` +
        `stopped → pending ${pending ? s(pending - stopped) : "not seen"} s, → firing ${s(fired - stopped)} s; ` +
        `docker start → resolved ${s(resolved - started)} s; ` +
        `mail (group_wait ${groupWait} s): stopped → in Mailpit ${s(mailed - stopped)} s, firing → in Mailpit ${s(mailed - fired)} s`,
    );
    expect(mail?.Subject).toMatch(/^\[FIRING:\d+\] ChatAPIInstanceDown/);
    const body = await mailBody(mail!.ID);
    expect(body).toContain("api-1:8000");
    expect(body).toContain("scripts/local logs");
    // Sent after group_wait, not before; the poll and SMTP add little.
    expect(mailed - fired).toBeLessThanOrEqual((groupWait + 30) * 1000);
    expect(firing?.labels).toMatchObject({
      job: SCRAPE_JOBS.api,
      instance: "api-1:8000",
      severity: "warning",
    });
    expect(firing?.annotations.runbook).toContain("scripts/local logs");
    // Never before `for`; at most one scrape (the failed one) and one evaluation after it. The
    // poll adds a fraction of a second; a loaded host may delay Prometheus's own ticks a little more.
    expect(fired - stopIssued).toBeGreaterThanOrEqual(forSeconds * 1000);
    expect(fired - stopped).toBeLessThanOrEqual((forSeconds + scrape + evaluation + 5) * 1000);
  }, 600_000);
});
