// Floods, with the shipped limits: a WebSocket frame flood (close 4008), credential brute force
// on every way in through nginx (429 with Retry-After, even for a right guess), a request flood
// by one principal (429), and many idle WebSockets from one address (capped). Where an attack
// talks to an instance directly, a client address is given with X-Forwarded-For, which the
// instance believes from one private hop (nginx's place).
import type { AttackResult, Scale } from "../lib/results";
import { startDeployment } from "./lib/edge";
import { startInstance } from "./lib/instance";
import { API, call, type ChatSocket, connect, createTenant, openSocket } from "../../toolbox/chat-client";
import { Tally } from "./lib/tally";

type Check = AttackResult["checks"][number];
const from = (address: string) => ({ "x-forwarded-for": address });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function wsSendFlood(scale: Scale): Promise<AttackResult> {
  const rate = 200; // the shipped WS_SEND_RATE_PER_SECOND
  const instance = await startInstance();
  const checks: Check[] = [];
  try {
    const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "flood");
    const user = await tenant.newUser("flooder");
    const bystander = await tenant.newUser("bystander");
    const calm = await connect(instance.url, bystander.token);
    const floods = scale === "short" ? 2 : 10;
    const frames = scale === "short" ? 1000 : 5000;
    const closes = new Tally();
    let sent = 0;
    for (let i = 0; i < floods; i++) {
      const socket = await connect(instance.url, user.token);
      for (let n = 0; n < frames && socket.closeCode === undefined; n++) {
        socket.send({ type: "ping", ref: `f${n}` });
        sent++;
      }
      const code = await Promise.race([socket.closed, sleep(10_000).then(() => 0)]);
      closes.add(code === 0 ? "still open" : `close ${code}`);
      socket.terminate();
    }
    const pongs = calm.frames.length;
    calm.send({ type: "ping" });
    const pong = await calm.next((f) => f.type === "pong", pongs);
    calm.terminate();
    const metrics = await call(instance.url, "GET", "/metrics");
    const limited = /chatapi_websocket_rate_limited_total\s+(\d+)/.exec(metrics.text)?.[1];
    checks.push({
      name: `every flooding socket is closed with 4008 (rate ${rate}/s, burst ${rate * 2})`,
      ok: closes.count("close 4008") === floods,
      detail: closes.toString(),
    });
    checks.push({ name: "another user's socket keeps working", ok: !!pong });
    checks.push({
      name: "chatapi_websocket_rate_limited_total counts them",
      ok: Number(limited) >= floods,
      detail: `metric ${limited}`,
    });
    return {
      id: "ws-send-flood",
      title: "WebSocket frame flood",
      attempts: sent,
      expected: "close 4008 once a socket exceeds WS_SEND_RATE_PER_SECOND (bursts to 2×); others unaffected",
      outcome: `${floods} floods of up to ${frames} frames: ${closes}`,
      failures: floods - closes.count("close 4008") + (pong ? 0 : 1),
      checks,
    };
  } finally {
    await instance.stop();
  }
}

/**
 * Credential guessing the way an attacker meets the service: through the shipped nginx, in front
 * of two instances of one deployment (the failure count is shared through Redis), from real
 * client addresses, with the shipped limits. Then one principal's request flood over both.
 */
export async function bruteForce(scale: Scale): Promise<AttackResult> {
  const limit = 30; // the default AUTH_FAILURES_PER_MINUTE
  const d = await startDeployment();
  const checks: Check[] = [];
  const guesses = scale === "short" ? limit + 10 : limit * 4;
  let attempts = 0;
  let failures = 0;
  try {
    const tenant = await createTenant(d.a.url, d.a.secrets.adminApiKey, "brute");
    const user = await tenant.newUser("target");
    const rest = async (
      from: string,
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: unknown,
    ) => {
      const r = await d.edge.request(method, `${API}${path}`, { from, headers, body });
      return { status: r.status, retry: (r.headers["retry-after"] as string | undefined) ?? null };
    };
    const upgrade = async (from: string, token: string) => {
      const opened = await openSocket(d.edge.url, token, {}, { ...d.edge.tls, localAddress: from });
      if ("socket" in opened) {
        const ready = await opened.socket.next((f) => f.type === "ready", 0, 5000);
        opened.socket.terminate();
        return {
          status: ready ? 101 : opened.socket.closeCode === 4001 ? 401 : (opened.socket.closeCode ?? 0),
          retry: null,
        };
      }
      return { status: opened.status, retry: opened.retryAfter ?? null };
    };
    const doors: Array<{
      name: string;
      tries: number;
      guess(i: number): Promise<{ status: number; retry: string | null }>;
      right(): Promise<number>;
    }> = [
      {
        name: "API key guessing on POST /auth/token",
        tries: guesses,
        guess: (i) =>
          rest(
            "127.0.0.30",
            "POST",
            "/auth/token",
            { "x-api-key": `cak_guess${i}_${"x".repeat(30)}` },
            { user_id: user.id },
          ),
        right: async () =>
          (
            await rest(
              "127.0.0.30",
              "POST",
              "/auth/token",
              { "x-api-key": tenant.apiKey },
              { user_id: user.id },
            )
          ).status,
      },
      {
        name: "refresh-token guessing on POST /auth/refresh",
        tries: guesses,
        guess: (i) => rest("127.0.0.31", "POST", "/auth/refresh", {}, { refresh_token: `crt_guess${i}` }),
        right: async () =>
          (await rest("127.0.0.31", "POST", "/auth/refresh", {}, { refresh_token: user.refresh })).status,
      },
      {
        name: "access-token guessing on GET /rooms",
        tries: guesses,
        guess: (i) =>
          rest("127.0.0.32", "GET", "/rooms", {
            authorization: `Bearer ${user.token.slice(0, -6)}AAA${String(i).padStart(3, "0")}`,
          }),
        right: async () =>
          (await rest("127.0.0.32", "GET", "/rooms", { authorization: `Bearer ${user.token}` })).status,
      },
      {
        // Fewer: nginx allows 20 upgrades a second per address (burst 100) before the app sees them.
        name: "access-token guessing on the WebSocket upgrade",
        tries: limit + 10,
        guess: (i) => upgrade("127.0.0.33", `${user.token.slice(0, -6)}BBB${String(i).padStart(3, "0")}`),
        right: async () => (await upgrade("127.0.0.33", user.token)).status,
      },
    ];
    const outcomes = new Tally();
    for (const door of doors) {
      const statuses: number[] = [];
      let retryOk = true;
      for (let i = 0; i < door.tries; i++) {
        const r = await door.guess(i);
        statuses.push(r.status);
        outcomes.add(r.status);
        if (r.status === 429 && !(Number(r.retry) > 0)) retryOk = false;
        // The counter is written just after each answer.
        if (i === limit - 1) await sleep(300);
      }
      attempts += door.tries + 1;
      const rightAfter = await door.right();
      const firstBlocked = statuses.indexOf(429);
      const leaked =
        statuses.slice(0, limit).filter((s) => s !== 401).length +
        statuses.slice(limit).filter((s) => s !== 429).length;
      failures += leaked + (rightAfter === 429 ? 0 : 1) + (retryOk ? 0 : 1);
      checks.push({
        name: `${door.name}: 401 for the first ${limit}, then 429 with Retry-After — a right credential too`,
        ok: leaked === 0 && retryOk && rightAfter === 429,
        detail: `first 429 at attempt ${firstBlocked + 1}; right credential afterwards → ${rightAfter}`,
      });
    }
    // Another address is not locked out.
    const elsewhere = await rest("127.0.0.99", "GET", "/rooms", { authorization: `Bearer ${user.token}` });
    checks.push({ name: "other addresses are unaffected", ok: elsewhere.status === 200 });
    // One principal's request flood over both instances past RATE_LIMIT_PER_MINUTE (6000, shared).
    const flood = new Tally();
    let retry: string | null = null;
    const targets = [d.a.url, d.b.url];
    await Promise.all(
      Array.from({ length: 10 }, async (_, worker) => {
        for (let i = worker; i < 6100; i += 10) {
          const r = await call(targets[i % 2]!, "GET", `${API}/rooms`, { token: user.token });
          flood.add(r.status);
          if (r.status === 429) retry = r.headers.get("retry-after");
        }
      }),
    );
    attempts += 6100;
    const floodOk = flood.count(429) >= 50 && Number(retry) > 0;
    if (!floodOk) failures++;
    checks.push({
      name: "one principal's request flood over two instances → 429 with Retry-After past RATE_LIMIT_PER_MINUTE (6000)",
      ok: floodOk,
      detail: flood.toString(),
    });
    return {
      id: "auth-brute-force",
      title:
        "Credential brute force (API keys, refresh tokens, access tokens on REST and WS) through nginx to two instances, and a request flood",
      attempts,
      expected: `401 until AUTH_FAILURES_PER_MINUTE (${limit}) failures per address across instances, then 429 + Retry-After for every attempt`,
      outcome: `${outcomes}; request flood: ${flood}`,
      failures,
      checks,
    };
  } finally {
    await d.stop();
  }
}

export async function idleConnections(scale: Scale): Promise<AttackResult> {
  const cap = 1000; // the shipped WS_MAX_CONNECTIONS_PER_ADDRESS
  const tries = cap + (scale === "short" ? 10 : 50);
  const instance = await startInstance();
  const checks: Check[] = [];
  const sockets: ChatSocket[] = [];
  try {
    const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "idle");
    const user = await tenant.newUser("hoarder");
    const outcomes = new Tally();
    let retryOk = true;
    for (let i = 0; i < tries; i++) {
      const opened = await openSocket(instance.url, user.token, from("203.0.113.50"));
      if ("socket" in opened) {
        sockets.push(opened.socket);
        outcomes.add("open");
      } else {
        outcomes.add(opened.status);
        if (!(Number(opened.retryAfter) > 0)) retryOk = false;
      }
    }
    // Not-yet-upgraded TCP connections that never send a byte: the server keeps serving.
    const { createConnection } = await import("node:net");
    const port = Number(new URL(instance.url).port);
    const raw = Array.from({ length: cap }, () => createConnection({ host: "127.0.0.1", port }));
    await sleep(500);
    const health = await call(instance.url, "GET", "/health");
    const other = await connect(instance.url, user.token, from("203.0.113.51")).then(
      (s) => (sockets.push(s), true),
      () => false,
    );
    for (const r of raw) r.destroy();
    const held = outcomes.count("open");
    checks.push({
      name: `one address holds at most WS_MAX_CONNECTIONS_PER_ADDRESS (${cap}) WebSockets`,
      ok: held === cap,
      detail: outcomes.toString(),
    });
    checks.push({
      name: "the rest are refused with 429 and Retry-After",
      ok: outcomes.count(429) === tries - cap && retryOk,
    });
    checks.push({
      name: `another address still connects, and ${cap} silent TCP connections do not stop /health`,
      ok: other && health.status === 200,
    });
    return {
      id: "idle-connections",
      title: "Many idle WebSockets from one address",
      attempts: tries + cap + 1,
      expected: `at most ${cap} per address, then 429 + Retry-After; other addresses unaffected`,
      outcome: `${outcomes}; other address ${other ? "connected" : "refused"}; /health ${health.status}`,
      failures: Math.max(0, held - cap) + (other ? 0 : 1) + (health.status === 200 ? 0 : 1),
      checks,
    };
  } finally {
    for (const s of sockets) s.terminate();
    await instance.stop();
  }
}
