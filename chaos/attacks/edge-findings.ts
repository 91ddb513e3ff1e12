// Issue 23's findings at the edge and in operations, each as an attack that failed on the code
// before the fix (docs/RELIABILITY.md keeps the numbers): (2) a client that writes
// X-Forwarded-For, (7) expired tokens counted as guesses, (8) a planted dump restored by psql,
// (9) a public, expensive, talkative /health/ready and a Gateway route for "/", (10) no limits at
// nginx and every credential in every process. The client sits where clients sit: before the
// shipped nginx config running in the real nginx, at an address of its own.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { buildPlan } from "../../components/plan/build-plan";
import { apiRoute } from "../../components/kubernetes/manifests/gateway";
import type { Role } from "../../components/plan/types";
import { loadStackConfig } from "../../components/config/load";
import { readStackFile } from "../../components/config/stack-file";
import { runCli } from "../../toolbox/processes";
import { PrivateRedis } from "../../toolbox/private-services";
import type { AttackResult, Scale } from "../lib/results";
import { createDatabase, required } from "../lib/services";
import { type Edge, startDeployment, startEdge } from "./lib/edge";
import { findingResult } from "./lib/finding";
import { repoRoot, startInstance } from "./lib/instance";
import { hs } from "./lib/jwt";
import { API, call, createTenant, openSocket } from "../../toolbox/chat-client";
import { Tally } from "./lib/tally";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Finding 2: X-Forwarded-For written by the client gave it a new address per request, or a victim's. */
export async function spoofedAddress(_scale: Scale): Promise<AttackResult> {
  const d = await startDeployment();
  try {
    const guess = (i: number, from: string, forwarded: string) =>
      d.edge.request("GET", `${API}/clients`, {
        from,
        headers: { "x-api-key": `cak_spoof_${i}_${"x".repeat(24)}`, "x-forwarded-for": forwarded },
      });
    // A new made-up address per guess, over both instances (nginx spreads REST round-robin).
    const escape = new Tally();
    for (let i = 0; i < 40; i++) {
      escape.add((await guess(i, "127.0.0.50", `203.0.113.${(i % 250) + 1}`)).status);
      if (i === 29) await sleep(300); // failures are counted just after each answer
    }
    // The victim's address written in, from another address: the victim must not be locked out.
    for (let i = 0; i < 40; i++) await guess(i, "127.0.0.51", "127.0.0.52");
    await sleep(300);
    const victim = await d.edge.request("GET", `${API}/clients`, {
      from: "127.0.0.52",
      headers: { "x-api-key": d.a.secrets.adminApiKey },
    });
    const blocked = escape.count(429);
    return findingResult(
      "spoofed-address",
      "2. Guessing through nginx with a made-up X-Forwarded-For per request, and framing a victim",
      "the guesses count for the real address (429 after AUTH_FAILURES_PER_MINUTE = 30), never for a written one",
      `40 guesses with 40 made-up addresses: ${escape}; the framed victim then got ${victim.status}`,
      81,
      [
        {
          name: "the guesser is blocked after 30 failures, whatever it writes",
          ok: blocked === 10,
          detail: `${escape}`,
        },
        {
          name: "an address written into the header is not locked out",
          ok: victim.status === 200,
          detail: `${victim.status}`,
        },
      ],
    );
  } finally {
    await d.stop();
  }
}

/** Finding 7: expired tokens with a valid signature counted as failed authentications. */
export async function expiredTokenLockout(_scale: Scale): Promise<AttackResult> {
  const d = await startDeployment();
  try {
    const tenant = await createTenant(d.a.url, d.a.secrets.adminApiKey, "expired");
    const user = await tenant.newUser("sleepy");
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, cid: tenant.clientId, typ: "access", iss: "chatapi", aud: "chatapi-api" };
    const expired = hs("HS256", {}, { ...claims, iat: now - 3900, exp: now - 300 }, d.a.secrets.SECRET_KEY);
    const nat = "127.0.0.53"; // one address for a whole office of woken-up laptops
    const rest = new Tally();
    for (let i = 0; i < 40; i++)
      rest.add(
        (
          await d.edge.request("GET", `${API}/rooms`, {
            from: nat,
            headers: { authorization: `Bearer ${expired}` },
          })
        ).status,
      );
    const ws = new Tally();
    for (let i = 0; i < 5; i++) {
      const opened = await openSocket(d.edge.url, expired, {}, { ...d.edge.tls, localAddress: nat });
      ws.add("socket" in opened ? `close ${await opened.socket.closed}` : `HTTP ${opened.status}`);
    }
    await sleep(300);
    const after = await d.edge.request("GET", `${API}/rooms`, {
      from: nat,
      headers: { authorization: `Bearer ${user.token}` },
    });
    return findingResult(
      "expired-token-lockout",
      "7. Expired (correctly signed) tokens from one address, then a valid one",
      "401 token_expired each time, never counted: the valid token from that address still works",
      `REST ${rest}; WebSocket ${ws}; then a valid token from the same address: ${after.status}`,
      46,
      [
        {
          name: "every expired token answered 401 (not 429)",
          ok: rest.count(401) === 40 && ws.count("close 4001") === 5,
        },
        { name: "the address is not locked out", ok: after.status === 200, detail: `${after.status}` },
      ],
    );
  } finally {
    await d.stop();
  }
}

/** Finding 8: `chatapi restore` ran a planted dump's psql meta-commands and did not need a checksum. */
export async function plantedDump(_scale: Scale): Promise<AttackResult> {
  const instance = await startInstance();
  const dir = mkdtempSync(join(tmpdir(), "chatapi-chaos-dump-"));
  const targets: Array<{ drop(): Promise<void> }> = [];
  try {
    const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "dump");
    await tenant.newUser("in-the-dump");
    const backup = await runCli(["backup"], { DATABASE_URL: instance.secrets.DATABASE_URL, BACKUP_DIR: dir });
    if (backup.code !== 0) throw new Error(`chatapi backup failed: ${backup.stderr}`);
    const name = readdirSync(dir).find((n) => n.endsWith(".sql.gz"))!;
    const marker = join(dir, "meta-command-ran");
    const planted = join(dir, "planted.sql.gz");
    const sql = gunzipSync(readFileSync(join(dir, name))).toString("utf8");
    // pg_dump 15.14+ restricts its own dump with a key written in the dump: the plant lifts it.
    const key = /^\\restrict ([A-Za-z0-9]+)$/m.exec(sql)?.[1];
    const plant = `${key ? `\\unrestrict ${key}\n` : ""}\\! touch ${marker}\n`;
    writeFileSync(planted, gzipSync(sql.replace(/^CREATE TABLE/m, `${plant}CREATE TABLE`)));
    // Whoever can plant a dump can plant its checksum.
    writeFileSync(
      `${planted}.sha256`,
      `${createHash("sha256").update(readFileSync(planted)).digest("hex")}\n`,
    );
    const admin = required("CHATAPI_TEST_DATABASE_URL");
    const target = await createDatabase(admin, "chatapi_t_restore");
    targets.push(target);
    const restored = await runCli(["restore", planted], { DATABASE_URL: target.url });
    const ran = existsSync(marker);
    // A genuine dump without its .sha256.
    rmSync(join(dir, `${name}.sha256`));
    const unverified = await createDatabase(admin, "chatapi_t_restore");
    targets.push(unverified);
    const noChecksum = await runCli(["restore", join(dir, name)], { DATABASE_URL: unverified.url });
    return findingResult(
      "planted-dump",
      "8. Restoring a dump with a psql meta-command (\\! touch), and a dump without its checksum",
      "the meta-command never runs and nothing is restored; a dump without .sha256 is refused unless allowed",
      `planted dump: exit ${restored.code}, meta-command ${ran ? "RAN" : "did not run"}; no .sha256: exit ${noChecksum.code}`,
      2,
      [
        { name: "the planted meta-command did not run", ok: !ran },
        {
          name: "the planted dump was refused (non-zero exit)",
          ok: restored.code !== 0,
          detail: restored.stderr.slice(-300),
        },
        {
          name: "a dump without .sha256 was refused (exit 5)",
          ok: noChecksum.code === 5,
          detail: noChecksum.stderr.slice(-300),
        },
      ],
    );
  } finally {
    for (const t of targets) await t.drop();
    rmSync(dir, { recursive: true, force: true });
    await instance.stop();
  }
}

/** Finding 9: /health/ready public, a probe round per hit, errors naming hosts; the Gateway route for "/". */
export async function readinessExposure(scale: Scale): Promise<AttackResult> {
  const redis = await PrivateRedis.start();
  const hits = scale === "short" ? 100 : 300;
  // An unreachable broker: readiness fails, and the reason names where it was looked for.
  const instance = await startInstance({
    env: { REDIS_URL: redis.url, RABBITMQ_URL: "amqp://chaos:chaos@127.0.0.1:1/" },
  });
  let edge: Edge | undefined;
  try {
    const direct = await call(instance.url, "GET", "/health/ready");
    const pings = async () => {
      const stats = await redis.cli("INFO", "commandstats");
      return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const before = await pings();
    await Promise.all(Array.from({ length: hits }, () => call(instance.url, "GET", "/health/ready")));
    const probes = (await pings()) - before;
    // Through nginx, from an outside address (loopback stands for a proxy in front of it).
    edge = await startEdge([instance], (lb) => ({ ...lb, trustedProxies: ["127.0.0.0/8"] }));
    const outside = await edge.request("GET", "/health/ready", {
      headers: { "x-forwarded-for": "203.0.113.9" },
    });
    const inside = await edge.request("GET", "/health/ready", { headers: { "x-forwarded-for": "10.0.0.5" } });
    const metrics = await edge.request("GET", "/metrics", { headers: { "x-forwarded-for": "10.0.0.5" } });
    const routed = gatewayRouted(["/metrics", "/health/ready", "/anything"]);
    return findingResult(
      "readiness-exposure",
      "9. /health/ready from outside and in bulk; what the Gateway variant routes",
      "private networks only, one probe round per second whatever the load, no host in the answer; the Gateway routes only the API, /ws and /health",
      `${hits} concurrent hits → ${probes} Redis PINGs; answer ${direct.status} ${direct.text.slice(0, 120)}; through nginx from outside ${outside.status}, from inside ${inside.status}, /metrics ${metrics.status}; Gateway routes ${routed.join(", ") || "none of /metrics, /health/ready, /anything"}`,
      hits + 4,
      [
        {
          name: `${hits} concurrent hits cost at most 3 probe rounds`,
          ok: probes <= 3,
          detail: `${probes} PINGs`,
        },
        {
          name: "the answer names the failing check, not the host behind it",
          ok: direct.status === 503 && !/127\.0\.0\.1|ECONNREFUSED|:1\b/.test(direct.text),
          detail: direct.text.slice(0, 300),
        },
        {
          name: "refused (403) from an outside address through nginx",
          ok: outside.status === 403,
          detail: `${outside.status}`,
        },
        {
          name: "answered from a private address through nginx",
          ok: inside.status === 503,
          detail: `${inside.status}`,
        },
        {
          name: "the Gateway variant routes none of /metrics, /health/ready, /anything",
          ok: routed.length === 0,
          detail: routed.join(", "),
        },
      ],
    );
  } finally {
    await edge?.stop();
    await instance.stop();
    await redis.dispose();
  }
}

/** Paths the Gateway variant's HTTPRoute sends to the API (Gateway API path matching). */
function gatewayRouted(paths: string[]): string[] {
  const file = readStackFile(repoRoot, "prod");
  const config = loadStackConfig({
    stack: "prod",
    config: {
      ...file.config,
      "chatapi:kubernetes": JSON.stringify({ namespace: "chatapi-gw", gatewayClassName: "eg" }),
    },
    secretKeys: file.secretKeys,
    appVersion: "1.0.0",
  });
  const route = apiRoute(buildPlan({ config, appVersion: "1.0.0" })) as unknown as {
    spec: { rules: Array<{ matches?: Array<{ path?: { type: string; value: string } }> }> };
  };
  const matches = (path: string, m: { type: string; value: string }) =>
    m.type === "Exact"
      ? path === m.value
      : m.value === "/" || path === m.value || path.startsWith(`${m.value.replace(/\/$/, "")}/`);
  return paths.filter((p) =>
    route.spec.rules.some((rule) =>
      (rule.matches ?? [{ path: { type: "PathPrefix", value: "/" } }]).some((m) => matches(p, m.path!)),
    ),
  );
}

/** Finding 10: nginx with no limit per address; every process with every credential. */
export async function edgeLimits(_scale: Scale): Promise<AttackResult> {
  const d = await startDeployment();
  try {
    const tenant = await createTenant(d.a.url, d.a.secrets.adminApiKey, "limits");
    const user = await tenant.newUser("flooder");
    const auth = { authorization: `Bearer ${user.token}` };
    const rest = new Tally();
    // 300 requests at once on 300 open keep-alive connections (opened first, through /ws, whose
    // limit is another zone): more at once than the burst of 200, so nginx must refuse some
    // however slowly the instances answer. A 429 from nginx is its HTML page; the app's is JSON.
    const from = "127.0.0.80";
    await Promise.all(Array.from({ length: 300 }, () => d.edge.request("GET", "/ws", { from })));
    await sleep(1000);
    const flood = await Promise.all(
      Array.from({ length: 300 }, () =>
        d.edge.request("GET", `${API}/openapi.json`, { from, headers: auth }),
      ),
    );
    for (const r of flood) rest.add(r.status === 429 && r.text.includes("<html>") ? "429 (nginx)" : r.status);
    // 500 at once: nginx must refuse some unless they take over 20 s (100 at once, then 20 a second).
    const upgrades = new Tally();
    const opened = await Promise.all(
      Array.from({ length: 500 }, () =>
        openSocket(d.edge.url, user.token, {}, { ...d.edge.tls, localAddress: "127.0.0.81" }).catch(() => ({
          status: 0,
        })),
      ),
    );
    for (const o of opened) {
      if ("socket" in o) {
        upgrades.add("open");
        o.socket.terminate();
      } else upgrades.add(o.status);
    }
    await sleep(200);
    const bystander = await d.edge.request("GET", `${API}/rooms`, { from: "127.0.0.82", headers: auth });
    const processes = processSecrets();
    return findingResult(
      "edge-limits",
      "10. A request flood and an upgrade flood from one address through nginx; which credentials each process holds",
      "nginx answers 429 past its per-address limits, others unaffected; each process holds only the credentials it uses",
      `300 REST requests at once on open connections: ${rest}; 500 upgrades at once: ${upgrades}; another address ${bystander.status}; ${processes.detail}`,
      1101,
      [
        {
          name: "nginx refuses a request flood from one address (429)",
          ok: rest.count("429 (nginx)") > 0,
          detail: `${rest}`,
        },
        {
          name: "nginx refuses an upgrade flood from one address (429)",
          ok: upgrades.count(429) > 0,
          detail: `${upgrades}`,
        },
        { name: "another address is unaffected", ok: bystander.status === 200 },
        {
          name: "only the API holds SECRET_KEY; backup, migration and bootstrap hold only DATABASE_URL (+ their own)",
          ok: processes.ok,
          detail: processes.detail,
        },
      ],
    );
  } finally {
    await d.stop();
  }
}

/** Which secrets each app process gets in the shipped stacks' plans. */
function processSecrets(): { ok: boolean; detail: string } {
  const allowed: Partial<Record<Role, string[]>> = {
    api: ["database_url", "redis_url", "rabbitmq_url", "secret_key", "sentry_dsn"],
    worker: ["database_url", "redis_url", "rabbitmq_url", "smtp_password", "sentry_dsn"],
    migrate: ["database_url"],
    "bootstrap-admin": ["database_url", "admin_api_key"],
    backup: ["database_url", "backup_s3_access_key_id", "backup_s3_secret_access_key"],
  };
  const wrong: string[] = [];
  for (const stack of ["local", "prod"]) {
    const file = readStackFile(repoRoot, stack);
    const plan = buildPlan({
      config: loadStackConfig({ stack, ...file, appVersion: "1.0.0" }),
      appVersion: "1.0.0",
    });
    for (const w of plan.workloads) {
      const ok = allowed[w.role];
      if (!ok) continue;
      for (const f of w.files)
        if ("secret" in f.source && !ok.includes(f.source.secret))
          wrong.push(`${stack} ${w.role}: ${f.source.secret}`);
    }
  }
  return {
    ok: wrong.length === 0,
    detail: wrong.length ? `extra: ${wrong.join(", ")}` : "each process only its own",
  };
}
