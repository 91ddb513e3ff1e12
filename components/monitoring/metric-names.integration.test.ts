// The alert rules and the dashboard against the metrics that really exist. A real Prometheus 2.42
// (Debian) scrapes, under the scrape job names the rules expect (SCRAPE_JOBS), a real API instance
// and worker on the shared PostgreSQL and Redis, a backup scheduler, a Pushgateway that one-shot
// backups pushed to, a private RabbitMQ node with its prometheus plugin, and the real exporters
// (postgres, redis, node, nginx in front of a real nginx, blackbox probing its HTTPS). Once
// traffic has flowed:
//   - every series selector of every rule and dashboard query finds series: the metric name, each
//     label named by a matcher, and each literal value of an `=` or plain-alternation `=~`
//     matcher (a renamed metric, label or job fails here, naming the expression);
//   - every dashboard query returns a finite value (each panel shows data);
//   - Prometheus loaded and evaluated every rule without error, and on this healthy system none
//     fires.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runCli } from "../../app/test/support/backup";
import { type Daemon, startDaemon, startPushgateway } from "../../toolbox/processes";
import { postMessage, workerEnv } from "../../app/test/support/jobs";
import { startAppProcess, type AppProcess } from "../../toolbox/processes";
import { PrivateRabbit } from "../../toolbox/private-services";
import {
  appEnv,
  createAdminKey,
  createTestDatabase,
  type TestDatabase,
} from "../../app/test/support/services";
import { freePort, waitFor } from "../../toolbox/processes";
import { type SeriesSelector, seriesSelectors } from "../../test/support/promql-selectors";
import { makeCertificate } from "../../test/support/tls-fixture";
import {
  ALERT_RULES_FILE,
  SCRAPE_JOBS,
  dashboardQueries,
  expandDashboardVariables,
  loadAlertRules,
  loadDashboard,
} from "./monitoring-files";
import { call, connect, createTenant } from "../../toolbox/chat-client";

const work = mkdtempSync(join(tmpdir(), "chatapi-metric-names-"));
const daemons: Daemon[] = [];
const apps: AppProcess[] = [];
let db: TestDatabase;
let rabbit: PrivateRabbit;
let nginx: ChildProcess | undefined;
let prometheus: Daemon;
let traffic: { stop(): Promise<number> } | undefined;

const rules = loadAlertRules().groups.flatMap((g) => g.rules);
const queries = dashboardQueries(loadDashboard()).map((q) => ({
  ...q,
  expr: expandDashboardVariables(q.expr),
}));

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const body = (await (await fetch(url)).json()) as {
    status: string;
    error?: string;
    data: { result: Sample[] };
  };
  if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

/** Queries proving one selector's parts exist; each must return at least one series. */
function existenceQueries(selector: SeriesSelector): string[] {
  const equal = selector.matchers.filter((m) => m.op === "=" && m.label !== "namespace");
  const base = equal.map((m) => `${m.label}=${JSON.stringify(m.value)}`);
  const series = (extra: string[] = []) => `${selector.metric}{${[...base, ...extra].join(",")}}`;
  const checks = [series()];
  for (const m of selector.matchers) {
    if (m.op === "=" || m.label === "namespace") continue; // namespace: only on Kubernetes
    const literals = m.op === "=~" && /^[\w-]+(\|[\w-]+)*$/.test(m.value) ? m.value.split("|") : undefined;
    if (literals) checks.push(...literals.map((v) => series([`${m.label}=${JSON.stringify(v)}`])));
    else checks.push(series([`${m.label}!=""`]));
  }
  return checks;
}

/** What is missing for the expressions: "<expression owner>: <query that found nothing>". */
async function missingSeries(expressions: Array<{ owner: string; expr: string }>): Promise<string[]> {
  const missing: string[] = [];
  for (const { owner, expr } of expressions) {
    for (const selector of seriesSelectors(expr)) {
      for (const check of existenceQueries(selector)) {
        if ((await query(`count(${check})`)).length === 0) missing.push(`${owner}: ${check}`);
      }
    }
  }
  return missing;
}

function scrapeConfig(
  targets: Record<string, string>,
  blackbox: string,
  probeUrl: string,
  pushgateway: string,
) {
  const job = (name: string, target: string) => ({ job_name: name, static_configs: [{ targets: [target] }] });
  return {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    rule_files: [ALERT_RULES_FILE],
    scrape_configs: [
      ...Object.entries(targets).map(([name, target]) => job(name, target)),
      // Pushed metrics keep the job they were pushed under (chatapi-backup).
      { ...job("pushgateway", pushgateway), honor_labels: true },
      {
        job_name: SCRAPE_JOBS.httpsProbe,
        metrics_path: "/probe",
        params: { module: ["https_2xx"] },
        static_configs: [{ targets: [probeUrl] }],
        relabel_configs: [
          { source_labels: ["__address__"], target_label: "__param_target" },
          { source_labels: ["__param_target"], target_label: "instance" },
          { target_label: "__address__", replacement: blackbox },
        ],
      },
    ],
  };
}

async function startNginx(httpsPort: number, statusPort: number): Promise<ChildProcess> {
  const dir = join(work, "nginx");
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const tls = makeCertificate("localhost", 30);
  writeFileSync(join(dir, "cert.pem"), tls.certificate);
  writeFileSync(join(dir, "key.pem"), tls.privateKey, { mode: 0o600 });
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((t) => `  ${t}_temp_path ${dir}/tmp/${t};`)
    .join("\n");
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log off;
${temp}
  server {
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location = /health { return 200 "ok\\n"; }
  }
  server {
    listen 127.0.0.1:${statusPort};
    location = /stub_status { stub_status; }
  }
}
`,
  );
  const child = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], {
    stdio: "ignore",
  });
  await waitFor(
    "nginx stub_status",
    async () => (await fetch(`http://127.0.0.1:${statusPort}/stub_status`)).ok,
  );
  return child;
}

/** Sends and reads in the background (bounded: at most 3 minutes), so rates stay above zero. */
function startTraffic(apiUrl: string, user: { token: string }, roomId: string) {
  let running = true;
  let sent = 0;
  const done = (async () => {
    const deadline = Date.now() + 180_000;
    while (running && Date.now() < deadline) {
      await postMessage(apiUrl, user, roomId, `traffic ${sent}`);
      await call(apiUrl, "GET", `/api/v1/rooms/${roomId}/messages`, { token: user.token });
      sent++;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return sent;
    },
  };
}

beforeAll(async () => {
  const rabbitMetricsPort = await freePort();
  [db, rabbit] = await Promise.all([
    createTestDatabase(),
    PrivateRabbit.start({ prometheusPort: rabbitMetricsPort }),
  ]);
  const adminKey = await createAdminKey(db.url);
  const env = appEnv(db.url, { RABBITMQ_URL: rabbit.url, RATE_LIMIT_PER_MINUTE: "1000000" });
  const backupDir = join(work, "backups");
  // The Kubernetes way: one-shot runs push to a Pushgateway; a failed run, then a good one (so
  // the failure metric exists and ChatAPIBackupFailed rightly stays quiet).
  const pushgateway = await startPushgateway();
  daemons.push(pushgateway);
  const missingDatabase = new URL(db.url);
  missingDatabase.pathname = "/chatapi_no_such_database";
  const pushed = { BACKUP_DIR: backupDir, BACKUP_PUSHGATEWAY_URL: pushgateway.url };
  expect((await runCli(["backup"], { ...pushed, DATABASE_URL: missingDatabase.toString() })).code).toBe(1);
  expect((await runCli(["backup"], { ...pushed, DATABASE_URL: db.url })).code).toBe(0);
  const [api, worker, backup] = await Promise.all([
    startAppProcess({ ...env, INSTANCE_NAME: "api-1" }),
    startAppProcess(workerEnv(env, { INSTANCE_NAME: "worker-1" }), ["worker"]),
    startAppProcess(
      { DATABASE_URL: db.url, BACKUP_DIR: backupDir, METRICS_PORT: "0" },
      ["backup", "--schedule", "*/20 * * * * *"],
      { ready: /backup scheduler started/ },
    ),
  ]);
  apps.push(api, worker, backup);
  const backupPort = (
    JSON.parse(backup.output.find((l) => l.includes("backup scheduler started"))!) as { metrics_port: number }
  ).metrics_port;

  const [httpsPort, statusPort] = [await freePort(), await freePort()];
  nginx = await startNginx(httpsPort, statusPort);
  writeFileSync(
    join(work, "blackbox.yml"),
    stringify({
      modules: { https_2xx: { prober: "http", http: { tls_config: { insecure_skip_verify: true } } } },
    }),
  );
  const exporters = await Promise.all([
    startDaemon({
      binary: "/usr/bin/prometheus-postgres-exporter",
      debianPackage: "prometheus-postgres-exporter",
      args: (port) => [`--web.listen-address=127.0.0.1:${port}`],
      env: { DATA_SOURCE_NAME: `${db.url}${db.url.includes("?") ? "&" : "?"}sslmode=disable` },
    }),
    startDaemon({
      binary: "/usr/bin/prometheus-redis-exporter",
      debianPackage: "prometheus-redis-exporter",
      args: (port) => [
        "-redis.addr",
        process.env.CHATAPI_TEST_REDIS_URL!,
        "-web.listen-address",
        `127.0.0.1:${port}`,
      ],
    }),
    startDaemon({
      binary: "/usr/bin/prometheus-node-exporter",
      debianPackage: "prometheus-node-exporter",
      args: (port) => [`--web.listen-address=127.0.0.1:${port}`],
    }),
    startDaemon({
      binary: "/usr/bin/prometheus-nginx-exporter",
      debianPackage: "prometheus-nginx-exporter",
      args: (port) => [
        "-nginx.scrape-uri",
        `http://127.0.0.1:${statusPort}/stub_status`,
        "-web.listen-address",
        `127.0.0.1:${port}`,
      ],
    }),
    startDaemon({
      binary: "/usr/bin/prometheus-blackbox-exporter",
      debianPackage: "prometheus-blackbox-exporter",
      args: (port) => [
        `--config.file=${join(work, "blackbox.yml")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
    }),
  ]);
  daemons.push(...exporters);
  const [postgres, redis, node, nginxExporter, blackbox] = exporters.map((d) => `127.0.0.1:${d.port}`);
  writeFileSync(
    join(work, "prometheus.yml"),
    stringify(
      scrapeConfig(
        {
          [SCRAPE_JOBS.api]: `127.0.0.1:${api.port}`,
          [SCRAPE_JOBS.worker]: `127.0.0.1:${(JSON.parse(worker.output.find((l) => l.includes("worker listening"))!) as { port: number }).port}`,
          [SCRAPE_JOBS.backup]: `127.0.0.1:${backupPort}`,
          [SCRAPE_JOBS.postgres]: postgres!,
          [SCRAPE_JOBS.redis]: redis!,
          [SCRAPE_JOBS.rabbitmq]: `127.0.0.1:${rabbitMetricsPort}`,
          [SCRAPE_JOBS.nginx]: nginxExporter!,
          [SCRAPE_JOBS.node]: node!,
        },
        blackbox!,
        `https://127.0.0.1:${httpsPort}/health`,
        `127.0.0.1:${pushgateway.port}`,
      ),
    ),
  );
  prometheus = await startDaemon({
    binary: "/usr/bin/prometheus",
    debianPackage: "prometheus",
    args: (port) => [
      `--config.file=${join(work, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(work, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    readyPath: "/-/ready",
  });
  daemons.push(prometheus);

  // Traffic: a subscriber on a WebSocket, messages sent and read over REST (each makes a job).
  const tenant = await createTenant(api.url, adminKey, "metrics");
  const [sender, reader] = [await tenant.newUser("sender"), await tenant.newUser("reader")];
  const room = await call<{ id: string }>(api.url, "POST", "/api/v1/rooms", {
    token: sender.token,
    body: { name: "metrics", member_ids: [reader.id] },
  });
  const socket = await connect(api.url, reader.token);
  await socket.request(
    { type: "subscribe", room_id: room.body.id, after_seq: 0 },
    (f) => f.type === "subscribed",
  );
  traffic = startTraffic(api.url, sender, room.body.id);
  // Enough scraped: messages counted, jobs done, every target up, a probe made.
  await waitFor(
    "Prometheus to see the traffic, the jobs and every target",
    async () =>
      (await query('sum(chatapi_messages_sent_total{job="chatapi-api"}) > 20')).length > 0 &&
      (await query('sum(chatapi_jobs_done_total{job="chatapi-worker"}) > 5')).length > 0 &&
      (await query("min(up) == 1")).length > 0 &&
      (await query("count(up) >= 10")).length > 0,
    120_000,
  );
}, 300_000);

afterAll(async () => {
  const sent = await traffic?.stop();
  if (sent !== undefined) console.log(`metric-names: ${sent} messages sent while checking`);
  nginx?.kill("SIGQUIT");
  await Promise.all([...daemons.map((d) => d.stop()), ...apps.map((a) => a.stop())]);
  await rabbit?.dispose();
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

describe("alert rules and dashboard against real metrics", () => {
  it("find every metric, label and job they select on", async () => {
    const expressions = [
      ...rules.map((r) => ({ owner: `rule ${r.alert}`, expr: r.expr })),
      ...queries.map((q) => ({ owner: `panel "${q.panel}" ${q.refId}`, expr: q.expr })),
    ];
    const selectors = expressions.flatMap((e) => seriesSelectors(e.expr));
    const names = new Set(selectors.map((s) => s.metric));
    console.log(
      `metric-names: ${expressions.length} expressions, ${selectors.length} selectors, ${names.size} metric names: ${[...names].sort().join(" ")}`,
    );
    expect(await missingSeries(expressions)).toEqual([]);
  });

  it("would report a renamed metric, label or job", async () => {
    expect(
      await missingSeries([
        { owner: "renamed metric", expr: 'sum(chatapi_websocket_connection{job="chatapi-api"})' },
        { owner: "renamed label", expr: 'sum by (queue) (chatapi_queue_messages{queue_name=~".+"})' },
        { owner: "renamed job", expr: 'up{job=~"chatapi-api|chatapi-workers"} == 0' },
      ]),
    ).toEqual([
      'renamed metric: chatapi_websocket_connection{job="chatapi-api"}',
      'renamed label: chatapi_queue_messages{queue_name!=""}',
      'renamed job: up{job="chatapi-workers"}',
    ]);
  });

  it("get a finite value from every dashboard query", async () => {
    const empty: string[] = [];
    for (const q of queries) {
      const finite = async () => (await query(q.expr)).some((s) => Number.isFinite(Number(s.value[1])));
      try {
        await waitFor(`panel "${q.panel}" ${q.refId}`, finite, 20_000);
      } catch {
        empty.push(`panel "${q.panel}" ${q.refId}: ${q.expr}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it("are loaded and evaluated by Prometheus 2.42 without error, and none fires on a healthy system", async () => {
    const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: {
        groups: Array<{
          rules: Array<{
            name: string;
            health: string;
            lastError?: string;
            state: string;
            lastEvaluation: string;
          }>;
        }>;
      };
    };
    const loaded = body.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert).sort());
    // Healthy means every target scraped up; an evaluation from before that (a rule with
    // absent() is pending until a worker's first scrape) says nothing, so judge the next one.
    await waitFor("every target up", async () => (await query("count(up == 0)")).length === 0, 60_000);
    const healthySince = Date.now();
    await waitFor("every rule evaluated since every target was up", async () => {
      const now = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as typeof body;
      return now.data.groups
        .flatMap((g) => g.rules)
        .every((r) => r.health === "ok" && Date.parse(r.lastEvaluation) > healthySince);
    });
    const alerts = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as {
      data: { alerts: Array<{ labels: { alertname: string }; state: string }> };
    };
    // The host's own disk is not the stack's doing: whatever it says is true either way.
    const active = alerts.data.alerts
      .map((a) => a.labels.alertname)
      .filter((n) => n !== "ChatAPIDiskNearlyFull");
    expect(active).toEqual([]);
  });
});
