// docs/RELIABILITY.md and the console table, from the results of one run.
import { cpus, totalmem } from "node:os";
import { type AttackResult, passed, type Scale, type ScenarioResult } from "./results";

/** Bugs the fault scenarios caught in the service or the toolkit, and where they were fixed. */
const FOUND = [
  "`postgres-restart`: requests while PostgreSQL was down answered **500** `internal_error`. Now 503 `database_unavailable` " +
    "with `Retry-After` (REST) or an error frame (WebSocket) — app/src/db/unavailable.ts, app/test/database-outage.integration.test.ts.",
  "`rabbitmq-outage`: after a broker outage the backlog of `message.posted` jobs ran in parallel and out of order, so a late job " +
    "opened a batch reaching back into one already mailed: some messages were **mailed twice**. A digest now lists only what no " +
    "older batch covered — app/src/jobs/handlers/notification-digest.ts, app/test/digest-overlap.integration.test.ts.",
  "`nginx-reload`: the rendered nginx.conf had no `worker_shutdown_timeout`, so after a reload the old workers kept every " +
    "WebSocket **forever** (they piled up with each reload). Now 10 s, then clients reconnect — components/nginx, the Helm chart.",
  "`sigterm-api-instance`: a busy keep-alive client kept a stopping instance serving for the whole drain timeout and then had a " +
    "request **cut mid-flight**. Now responses say `Connection: close` while stopping, the listener closes after a 1 s grace and " +
    "before idle connections — app/src/server.ts, app/test/cluster.integration.test.ts.",
  "`redis-trouble`: while Redis was stalled (SIGSTOP) REST requests **hung** in the rate limiter for the whole stall. Redis " +
    "commands now time out after 1 s and the limiter passes — app/src/server.ts, app/test/redis-restart.integration.test.ts.",
];

/**
 * Issue 23 (a code review): each finding, the attack or scenario that shows it, and what that
 * attack measured on the code before the fix (short form, at a018739). Its row below is now.
 */
const REVIEW = [
  "`secret-leaks` (access tokens in nginx's log): nginx's access log held the access token, its signature and a tenant " +
    "API key from `?token=` and query strings; now nginx logs the path without the query, and keeps /ws errors (which quote " +
    "the request line) out of its error log — components/nginx, the chart's `_nginx.tpl`.",
  "`room-stream-leak` and `churn-soak` (room streams that never go away): 10 of 10 rooms subscribed twice on one socket kept " +
    "their Redis channel after the socket left; clients coming and going left 11 channels; now 0 — app/src/ws/hub.ts.",
  "1 `removed-member`: members removed while their instance's Redis subscription was down got 8 messages sent after " +
    "the removal in 2 rounds and were never told; now 0, and `unsubscribed` — kicks kept while Redis is away, membership " +
    "re-read after a fan-out reconnect, a kick during a subscribe refuses it.",
  "2 `spoofed-address`: 40 guesses through nginx with a made-up X-Forwarded-For each were never blocked (401 × 40), and " +
    "the address written in was locked out (429); now 429 after 30, and the framed address still gets 200 — nginx sets the " +
    "header, the app believes TRUSTED_PROXY_HOPS (1).",
  "3 `subscribe-churn`: 150 subscribes to random room ids made 150 Redis channels; now 0 (membership first).",
  "4 `lost-publish`: a committed message whose publish was lost reached neither the live subscriber after a retry (200) nor " +
    "a new subscriber; now both get it.",
  "5 `commit-reset`: a connection reset after a batch committed stored 5 of 20 sends without client_msg_id twice; now 0 " +
    "(retried under the batch's own message ids).",
  "6 `catch-up-failure`: a failed catch-up read left a subscription that replayed 0 of 5 messages and never went live; " +
    "now the read is retried and it goes live.",
  "7 `expired-token-lockout`: 40 expired but correctly signed tokens from one address locked it out (429, a valid token " +
    "too); now 401 each and the address keeps working.",
  "8 `planted-dump`: a dump with `\\unrestrict <its key>` and `\\! touch` ran the command; a dump without `.sha256` was " +
    "restored; now psql runs restricted under a random key (refused, nothing restored) and a missing checksum exits 5.",
  "9 `readiness-exposure`: 100 concurrent `/health/ready` hits made 100 probe rounds, the answer said " +
    "`connect ECONNREFUSED 127.0.0.1:1`, nginx served it to outside addresses, and the Gateway variant routed /metrics; now " +
    "one round a second, no reason in the answer, 403 from outside, and the Gateway routes only the API, /ws and /health.",
  "10 `edge-limits`: 640 requests and 200 upgrades from one address all passed nginx, and every process held SECRET_KEY " +
    "and every store's credential (20 extra credentials in the local and prod plans); now 429 past nginx's per-address " +
    "limits and each process holds only what its command uses.",
];

const ms = (v: number | null) => (v === null ? "—" : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
const cell = (v: unknown) => String(v).replace(/\|/g, "\\|").replace(/\n/g, " ");

export function consoleTable(faults: ScenarioResult[], attacks: AttackResult[]): string {
  const rows = [
    ["scenario", "sent", "acked", "delivered", "lost", "dup", "ooo", "recovery", "result"],
    ...faults.map((r) =>
      [
        r.id,
        r.sent,
        r.acked,
        r.delivered,
        r.lost,
        r.duplicated,
        r.outOfOrder,
        ms(r.recoveryMs),
        passed(r) ? "pass" : "FAIL",
      ].map(String),
    ),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join("  "));
  for (const r of [...faults, ...attacks]) {
    for (const c of r.checks.filter((x) => !x.ok))
      lines.push(`FAIL ${r.id}: ${c.name}${c.detail ? ` — ${c.detail.slice(0, 600)}` : ""}`);
  }
  if (attacks.length > 0) {
    lines.push("", "attack  attempts  failures  result");
    for (const a of attacks)
      lines.push(`${a.id}  ${a.attempts}  ${a.failures}  ${passed(a) && a.failures === 0 ? "pass" : "FAIL"}`);
  }
  return lines.join("\n");
}

export function renderReliability(options: {
  scale: Scale;
  startedAt: Date;
  durationMs: number;
  faults: ScenarioResult[];
  attacks: AttackResult[];
  commit: string;
}): string {
  const { faults, attacks } = options;
  const out: string[] = [
    "# Reliability: faults and attacks, with figures",
    "",
    `Written by \`npm run chaos\` (chaos/run.ts) on ${options.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, ` +
      `${options.scale} scale, commit ${options.commit}, in ${Math.round(options.durationMs / 1000)} s on ${cpus().length} cores / ${Math.round(totalmem() / 2 ** 30)} GiB ` +
      "(a machine shared with other builds: recovery times are upper bounds, not targets). Do not edit by hand; run it again.",
    "",
    "Every fault runs on real processes and real services on loopback: `chatapi serve`/`worker`/`backup` from `app/dist`, " +
      "and for whatever is faulted a private instance (redis-server, a PostgreSQL 15 cluster, a RabbitMQ node, nginx with the " +
      "toolkit's rendered config, a tmpfs) so the shared services are never disturbed, with the shipped limits. Load: " +
      "senders over REST and over WebSocket with a `client_msg_id` retry the same id on another instance until acked; " +
      "senders over REST without one send once (a send whose answer was lost is not repeated, and must be stored at most " +
      "once); every body is unique. Subscribers hold WebSockets on every instance, reconnect with exponential backoff and " +
      "full jitter and resubscribe with the last seq they saw (API.md); one of them is removed from a room under load.",
    "",
    "- **sent / acked**: distinct messages attempted / acknowledged (201, or 200 for a retried id; a send without " +
      "`client_msg_id` whose answer was lost is neither).",
    "- **delivered**: message frames received, summed over all subscribers (each subscriber follows every room).",
    "- **lost**: acked messages that some subscriber never got, or that PostgreSQL does not hold under the acked seq.",
    "- **duplicated / out of order**: frames a subscriber got twice / with a seq other than last + 1.",
    "- **recovery**: from the fault until the service answered normally again (ready, clients resubscribed, sends acked).",
    "",
    "## Summary",
    "",
    "| scenario | sent | acked | delivered | lost | duplicated | out of order | recovery | result |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...faults.map(
      (r) =>
        `| ${cell(r.title)} | ${r.sent} | ${r.acked} | ${r.delivered} | ${r.lost} | ${r.duplicated} | ${r.outOfOrder} | ${ms(r.recoveryMs)} | ${passed(r) ? "pass" : "**FAIL**"} |`,
    ),
    "",
  ];
  for (const r of faults) {
    out.push(
      `## ${r.title} (\`${r.id}\`)`,
      "",
      "| | |",
      "|---|---|",
      `| load | ${cell(r.load)} |`,
      `| fault | ${cell(r.fault)} |`,
      `| sent / acked / delivered | ${r.sent} / ${r.acked} / ${r.delivered} |`,
      `| lost / duplicated / out of order | ${r.lost} / ${r.duplicated} / ${r.outOfOrder} |`,
      `| recovery | ${ms(r.recoveryMs)} |`,
      ...Object.entries(r.extra).map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
      "",
      "Checks:",
      "",
      ...r.checks.map(
        (c) =>
          `- ${c.ok ? "✅" : "❌"} ${c.name}${c.detail && (!c.ok || c.detail.length < 160) ? ` — ${cell(c.detail).slice(0, 400)}` : ""}`,
      ),
      "",
    );
  }
  out.push(
    "## What the suite found (fixed, each with its own regression test)",
    "",
    ...FOUND.map((line) => `- ${line}`),
    "",
  );
  out.push(
    "## Issue 23: a review's findings, and what their attacks measured before the fix",
    "",
    ...REVIEW.map((line) => `- ${line}`),
    "",
  );
  out.push("## Attacks", "");
  if (attacks.length === 0) {
    out.push("No attack suite in this checkout (chaos/attacks/index.ts lists none).", "");
  } else {
    out.push(
      "| attack | attempts | expected | outcome | failures | result |",
      "|---|---:|---|---|---:|---|",
      ...attacks.map(
        (a) =>
          `| ${cell(a.title)} (\`${a.id}\`) | ${a.attempts} | ${cell(a.expected)} | ${cell(a.outcome)} | ${a.failures} | ${passed(a) && a.failures === 0 ? "pass" : "**FAIL**"} |`,
      ),
      "",
    );
    for (const a of attacks.filter((x) => !passed(x) || x.failures > 0)) {
      out.push(
        `Failed checks of \`${a.id}\`:`,
        "",
        ...a.checks
          .filter((c) => !c.ok)
          .map((c) => `- ❌ ${c.name}${c.detail ? ` — ${cell(c.detail).slice(0, 400)}` : ""}`),
        "",
      );
    }
  }
  return out.join("\n");
}
