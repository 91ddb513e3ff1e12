// Secrets never leak: an instance runs at LOG_LEVEL=trace with every secret-bearing setting set,
// is put through sign-ups, token refreshes, WebSocket sessions and errors (a broker whose URL
// carries a password and cannot be reached, a client that puts its token in a query string), and
// every log line (the app's, and the access and error logs of the shipped nginx in front of it),
// /metrics, every response body and header and the configuration-error message are searched for
// every secret value (plain, JSON-escaped, base64 at any alignment:
// test/support/secret-search.ts). The app image's history and every file in its layers, and
// every file in git, are searched for the machine's real secrets.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { leakedSecrets, secretNeedles } from "../../test/support/secret-search";
import type { AttackResult, Scale } from "../lib/results";
import { type Edge, startEdge } from "./lib/edge";
import { cli, repoRoot, startInstance } from "./lib/instance";
import { machineSecrets, REAL_PRIVATE_KEY } from "./lib/machine-secrets";
import { engineStackState } from "./lib/pulumi-state";
import { API, call, connect, createTenant } from "../../toolbox/chat-client";

type Check = AttackResult["checks"][number];
const exec = promisify(execFile);
const secret = (label: string) => `${label}-${randomBytes(18).toString("base64url")}`;

/** Logs, /metrics, response bodies and the config-error message of a real instance. */
async function instanceLeaks(checks: Check[]): Promise<{ attempts: number; leaks: string[] }> {
  const smtpPassword = secret("smtp");
  const s3Secret = secret("s3");
  const brokerPassword = secret("amqp");
  const instance = await startInstance({
    logLevel: "trace",
    env: {
      SMTP_HOST: "127.0.0.1",
      SMTP_USER: "mailer",
      SMTP_PASSWORD: smtpPassword,
      BACKUP_S3_BUCKET: "chaos-backups",
      BACKUP_S3_ACCESS_KEY_ID: "AKIACHAOSACCESSKEY01",
      BACKUP_S3_SECRET_ACCESS_KEY: s3Secret,
      // Unreachable broker whose URL carries a password: /health/ready reports the failure.
      RABBITMQ_URL: `amqp://chaos:${brokerPassword}@127.0.0.1:1/`,
    },
  });
  const seen: string[] = [];
  const secrets: Record<string, string> = {
    SECRET_KEY: instance.secrets.SECRET_KEY,
    "DATABASE_URL password": decodeURIComponent(new URL(instance.secrets.DATABASE_URL).password),
    SMTP_PASSWORD: smtpPassword,
    BACKUP_S3_SECRET_ACCESS_KEY: s3Secret,
    "RABBITMQ_URL password": brokerPassword,
    "admin API key": instance.secrets.adminApiKey,
  };
  let attempts = 0;
  let edge: Edge | undefined;
  let nginxLogs = "";
  const record = async (reply: Promise<{ status: number; text: string; headers: Headers }>) => {
    const r = await reply;
    attempts++;
    seen.push(r.text, JSON.stringify([...r.headers.entries()]));
    return r;
  };
  try {
    const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "leaks");
    secrets["tenant API key"] = tenant.apiKey;
    const alice = await tenant.newUser("alice");
    const bob = await tenant.newUser("bob");
    secrets["access token"] = alice.token;
    secrets["refresh token"] = alice.refresh;
    secrets["access token signature"] = alice.token.split(".")[2]!;
    const refreshed = await record(
      call(instance.url, "POST", `${API}/auth/refresh`, { body: { refresh_token: alice.refresh } }),
    );
    const pair = JSON.parse(refreshed.text) as { access_token: string; refresh_token: string };
    secrets["rotated refresh token"] = pair.refresh_token;
    await record(
      call(instance.url, "POST", `${API}/auth/refresh`, { body: { refresh_token: alice.refresh } }),
    ); // reuse
    const room = await record(
      call(instance.url, "POST", `${API}/rooms`, {
        token: alice.token,
        body: { name: "r", member_ids: [bob.id] },
      }),
    );
    const roomId = (JSON.parse(room.text) as { id: string }).id;
    // Credentials where clients put them by mistake: a query string, a body, odd headers.
    await record(
      call(
        instance.url,
        "GET",
        `${API}/rooms?token=${alice.token}&access_token=${alice.token}&api_key=${tenant.apiKey}`,
        { token: alice.token },
      ),
    );
    await record(
      call(instance.url, "GET", `${API}/rooms`, {
        headers: { authorization: `Token ${alice.token}`, cookie: `session=${alice.token}` },
      }),
    );
    await record(
      call(instance.url, "POST", `${API}/rooms/${roomId}/messages`, {
        token: alice.token,
        body: { body: "hello", client_msg_id: "m1", api_key: tenant.apiKey },
      }),
    );
    await record(call(instance.url, "GET", `${API}/clients`, { apiKey: `${tenant.apiKey}x` }));
    await record(call(instance.url, "GET", `${API}/rooms`, { token: `${alice.token}x` }));
    await record(
      call(instance.url, "POST", `${API}/users`, {
        apiKey: tenant.apiKey,
        rawBody: `{"external_id": "${tenant.apiKey}`,
        headers: { "content-type": "application/json" },
      }),
    );
    // The same through the shipped nginx, whose logs are searched too: /ws carries the token in
    // its query string, and a failing upstream makes nginx quote the request line.
    edge = await startEdge([instance]);
    const viaEdge = await connect(edge.url, alice.token, {}, edge.tls);
    viaEdge.terminate();
    await edge.request("GET", `${API}/rooms?token=${alice.token}&api_key=${tenant.apiKey}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    attempts += 2;
    const socket = await connect(instance.url, alice.token);
    socket.send({ type: "subscribe", room_id: roomId, after_seq: 0, ref: alice.refresh });
    socket.send({ type: "send", room_id: roomId, body: "over ws", client_msg_id: "m2" });
    socket.send(`{"type":"send","token":"${alice.token}"`);
    await socket.next((f) => f.type === "ack");
    socket.terminate();
    const wsHeader = await connect(instance.url.replace("127.0.0.1", "localhost"), pair.access_token).catch(
      () => undefined,
    );
    wsHeader?.terminate();
    attempts += 5;
    const ready = await record(call(instance.url, "GET", "/health/ready"));
    const metrics = await record(call(instance.url, "GET", "/metrics"));
    checks.push({
      name: "/health/ready reports the unreachable broker (the failure path ran)",
      ok: ready.status === 503,
    });
    checks.push({
      name: "/metrics answered",
      ok: metrics.status === 200 && metrics.text.includes("http_requests_total"),
    });
  } finally {
    nginxLogs = edge?.logs() ?? "";
    await edge?.stop();
    await instance.stop();
  }
  const logs = instance.output.join("\n");
  const levels = [...new Set(instance.output.map((l) => /"level":"(\w+)"/.exec(l)?.[1]).filter(Boolean))];
  checks.push({
    name: "the instance logged at LOG_LEVEL=trace (every line it wrote is searched)",
    ok: instance.output.length > 10,
    detail: `${instance.output.length} lines, levels: ${levels.join(", ")}`,
  });
  const leaks: string[] = [];
  for (const name of leakedSecrets(logs, secrets)) leaks.push(`logs: ${name}`);
  checks.push({
    name: "nginx logged the requests that went through it (its access and error logs are searched)",
    ok: nginxLogs.includes('"GET /ws') || nginxLogs.includes("GET /ws"),
    detail: `${nginxLogs.split("\n").filter(Boolean).length} lines`,
  });
  for (const name of leakedSecrets(nginxLogs, secrets)) leaks.push(`nginx logs: ${name}`);
  for (const name of leakedSecrets(seen.join("\n"), {
    ...secrets,
    "access token": "",
    "refresh token": "",
    "rotated refresh token": "",
  }))
    leaks.push(`responses: ${name}`);

  // A configuration error names the bad variables, never their values.
  const badKey = `short-${randomBytes(5).toString("hex")}`; // under 32 characters: refused
  const badDbPassword = secret("dbpw");
  let configError = "";
  try {
    await cli(["serve"], {
      ENVIRONMENT: "production",
      SECRET_KEY: badKey,
      DATABASE_URL: `mysql://u:${badDbPassword}@db/x`,
      REDIS_URL: `http://:${badDbPassword}@redis/0`,
      SMTP_PASSWORD: smtpPassword,
      PORT: "0",
    });
  } catch (error) {
    configError = (error as Error).message;
  }
  attempts++;
  checks.push({
    name: "an invalid configuration stops the process naming the variables",
    ok: /SECRET_KEY/.test(configError) && /DATABASE_URL/.test(configError),
    detail: configError.split("\n").slice(-3).join(" ").slice(0, 300),
  });
  for (const name of leakedSecrets(configError, {
    "SECRET_KEY (too short)": `${badKey}xx`.slice(0, -2),
    "DATABASE_URL password": badDbPassword,
    SMTP_PASSWORD: smtpPassword,
  }))
    leaks.push(`config error: ${name}`);
  if (configError.includes(badKey)) leaks.push("config error: the too-short SECRET_KEY");
  return { attempts, leaks };
}

/** `docker history` and every file of the app image, for the machine's secrets and private keys. */
async function imageLeaks(image: string, needles: string[]): Promise<{ files: number; leaks: string[] }> {
  const leaks: string[] = [];
  const history = (
    await exec("docker", ["history", "--no-trunc", "--format", "{{.CreatedBy}}", image], {
      maxBuffer: 16 * 1024 * 1024,
    })
  ).stdout;
  for (const n of needles) if (history.includes(n)) leaks.push(`${image} history contains a secret`);
  if (/(PASSWORD|SECRET_KEY|API_KEY)=[^\s$]{8,}/.test(history))
    leaks.push(`${image} history sets a secret-looking variable`);
  const dir = mkdtempSync(join(tmpdir(), "chaos-image-"));
  try {
    const needleFile = join(dir, "needles");
    writeFileSync(needleFile, needles.join("\n") + "\n");
    // Every regular file of every layer, streamed through grep; names of files that must not ship.
    const script = `
      set -euo pipefail
      docker save "$1" | tar -xf - -C "$2/x"
      files=0
      for layer in $(find "$2/x" -name '*.tar' -o -name 'layer.tar' | sort -u); do
        names=$(tar -tf "$layer")
        files=$((files + $(printf '%s\\n' "$names" | grep -cv '/$' || true)))
        printf '%s\\n' "$names" | grep -E '(^|/)(\\.env|id_rsa|id_ed25519|\\.npmrc|services\\.env|\\.git/config|admin_api_key)$' | sed 's/^/FORBIDDEN /' || true
        if [ -s "$3" ] && tar -xOf "$layer" 2>/dev/null | grep -a -F -q -f "$3"; then echo "SECRET $layer"; fi
        if tar -xOf "$layer" 2>/dev/null | grep -a -q -E -- '-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----'; then echo "PEM $layer"; fi
      done
      echo "FILES $files"`;
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "x"));
    const out = (
      await exec("bash", ["-c", script, "scan", image, dir, needleFile], { maxBuffer: 64 * 1024 * 1024 })
    ).stdout;
    const files = Number(/FILES (\d+)/.exec(out)?.[1] ?? 0);
    for (const line of out.split("\n")) {
      if (line.startsWith("FORBIDDEN ")) leaks.push(`${image}: ships ${line.slice(10)}`);
      if (line.startsWith("SECRET ")) leaks.push(`${image}: a layer holds one of the machine's secrets`);
      if (line.startsWith("PEM ")) leaks.push(`${image}: a layer holds a PEM private key`);
    }
    return { files, leaks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Pulumi state: the engine stack (Pulumi.ci.yaml, render mode; scripts/engine-stack generates its
 * secrets) goes up under the real engine; its exported state, outputs and stack file are searched
 * for every config secret (they must be there only encrypted).
 */
async function pulumiStateLeaks(): Promise<{ searched: number; secrets: number; leaks: string[] }> {
  const { state, outputs, stackFile, secrets } = await engineStackState();
  const leaks = [
    ...leakedSecrets(state, secrets).map((n) => `state: ${n}`),
    ...leakedSecrets(outputs, secrets).map((n) => `outputs: ${n}`),
    ...leakedSecrets(stackFile, secrets).map((n) => `stack file: ${n}`),
  ];
  const resources =
    (JSON.parse(state) as { deployment: { resources?: unknown[] } }).deployment.resources ?? [];
  return { searched: resources.length, secrets: Object.keys(secrets).length, leaks };
}

async function trackedFiles(): Promise<string[]> {
  const { stdout } = await exec("git", ["ls-files", "-z"], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  return stdout.split("\0").filter(Boolean);
}

export async function secretLeaks(_scale: Scale): Promise<AttackResult> {
  const checks: Check[] = [];
  const { attempts: instanceAttempts, leaks: appLeaks } = await instanceLeaks(checks);
  checks.push({
    name: "no secret in logs (trace level), /metrics, response bodies/headers or the config error",
    ok: appLeaks.length === 0,
    detail: appLeaks.join("; ") || undefined,
  });

  const machine = machineSecrets();
  checks.push({
    name: "the machine's secrets were found to search for",
    ok: Object.keys(machine).length > 0,
    detail: Object.keys(machine).join(", "),
  });
  const needles = [...new Set(Object.values(machine).flatMap(secretNeedles))];

  const gitFound: string[] = [];
  const tracked = await trackedFiles();
  for (const file of tracked) {
    let text: string;
    try {
      text = readFileSync(join(repoRoot, file), "utf8");
    } catch {
      continue; // deleted in the worktree
    }
    for (const name of leakedSecrets(text, machine)) gitFound.push(`${file}: ${name}`);
    if (REAL_PRIVATE_KEY.test(text)) gitFound.push(`${file}: a private key`);
  }
  checks.push({
    name: `no machine secret or private key in the ${tracked.length} files in git`,
    ok: gitFound.length === 0,
    detail: gitFound.join("; ") || undefined,
  });

  const image = process.env.CHATAPI_CHAOS_IMAGE ?? "chatapi-local/chatapi:1.0.0";
  let imageFiles = 0;
  let imageFound: string[] = [];
  try {
    const scanned = await imageLeaks(image, needles);
    imageFiles = scanned.files;
    imageFound = scanned.leaks;
    checks.push({
      name: `no secret in ${image}: docker history, ${imageFiles} files in its layers`,
      ok: imageFound.length === 0 && imageFiles > 0,
      detail: imageFound.join("; ") || undefined,
    });
  } catch (error) {
    checks.push({
      name: `${image} could be scanned (scripts/setup --for test builds it)`,
      ok: false,
      detail: (error as Error).message.slice(0, 300),
    });
  }
  let stateFound: string[] = [];
  let stateResources = 0;
  try {
    const scanned = await pulumiStateLeaks();
    stateFound = scanned.leaks;
    stateResources = scanned.searched;
    checks.push({
      name: `no config secret (${scanned.secrets}) in the engine stack's Pulumi state (${scanned.searched} resources), outputs or stack file`,
      ok: stateFound.length === 0 && scanned.searched > 0 && scanned.secrets > 0,
      detail: stateFound.join("; ") || undefined,
    });
  } catch (error) {
    checks.push({
      name: "the engine stack went up (scripts/pulumi-toolchain, scripts/engine-stack)",
      ok: false,
      detail: (error as Error).message.slice(0, 400),
    });
  }
  const leaks = appLeaks.length + gitFound.length + imageFound.length + stateFound.length;
  return {
    id: "secret-leaks",
    title: "Secrets in logs, /metrics, error bodies, image layers, files in git and Pulumi state",
    attempts: instanceAttempts + tracked.length + imageFiles + stateResources,
    expected: "no secret value anywhere (plain, JSON-escaped or base64)",
    outcome: `${leaks} leaks: ${instanceAttempts} requests/frames at trace level, ${tracked.length} git files, ${imageFiles} image files, Pulumi state of ${stateResources} resources searched`,
    failures: leaks,
    checks,
  };
}
