// Floods: a WebSocket frame flood (close 4008), credential brute force on every way in (429 with
// Retry-After, even for a right guess), a request flood by one principal (429), and many idle
// WebSockets from one address (capped). Client addresses are simulated with X-Forwarded-For,
// which the service believes from loopback proxies (like nginx in front of it).
import type { AttackResult, Scale } from "../lib/results";
import { API, call, createTenant, Tally } from "./lib/http";
import { startInstance } from "./lib/instance";
import { connect, openSocket, type Socket } from "./lib/ws";

type Check = AttackResult["checks"][number];
const from = (address: string) => ({ "x-forwarded-for": address });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function wsSendFlood(scale: Scale): Promise<AttackResult> {
  const rate = 50;
  const instance = await startInstance({ env: { WS_SEND_RATE_PER_SECOND: String(rate) } });
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
      socket.close();
    }
    const pongs = calm.frames.length;
    calm.send({ type: "ping" });
    const pong = await calm.next((f) => f.type === "pong", pongs);
    calm.close();
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

export async function bruteForce(scale: Scale): Promise<AttackResult> {
  const limit = 30; // the default AUTH_FAILURES_PER_MINUTE
  const instance = await startInstance({ env: { RATE_LIMIT_PER_MINUTE: "40" } });
  const checks: Check[] = [];
  const guesses = scale === "short" ? limit + 10 : limit * 4;
  let attempts = 0;
  let failures = 0;
  try {
    const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "brute");
    const user = await tenant.newUser("target");
    const doors: Array<{
      name: string;
      address: string;
      guess(i: number): Promise<{ status: number; retry: string | null }>;
      right(): Promise<number>;
    }> = [
      {
        name: "API key guessing on POST /auth/token",
        address: "198.51.100.10",
        guess: async (i) => {
          const r = await call(instance.url, "POST", `${API}/auth/token`, {
            apiKey: `cak_guess${i}_${"x".repeat(30)}`,
            headers: from("198.51.100.10"),
            body: { user_id: user.id },
          });
          return { status: r.status, retry: r.headers.get("retry-after") };
        },
        right: async () =>
          (
            await call(instance.url, "POST", `${API}/auth/token`, {
              apiKey: tenant.apiKey,
              headers: from("198.51.100.10"),
              body: { user_id: user.id },
            })
          ).status,
      },
      {
        name: "refresh-token guessing on POST /auth/refresh",
        address: "198.51.100.11",
        guess: async (i) => {
          const r = await call(instance.url, "POST", `${API}/auth/refresh`, {
            headers: from("198.51.100.11"),
            body: { refresh_token: `crt_guess${i}` },
          });
          return { status: r.status, retry: r.headers.get("retry-after") };
        },
        right: async () =>
          (
            await call(instance.url, "POST", `${API}/auth/refresh`, {
              headers: from("198.51.100.11"),
              body: { refresh_token: user.refresh },
            })
          ).status,
      },
      {
        name: "access-token guessing on GET /rooms",
        address: "198.51.100.12",
        guess: async (i) => {
          const r = await call(instance.url, "GET", `${API}/rooms`, {
            token: `${user.token.slice(0, -6)}AAA${String(i).padStart(3, "0")}`,
            headers: from("198.51.100.12"),
          });
          return { status: r.status, retry: r.headers.get("retry-after") };
        },
        right: async () =>
          (
            await call(instance.url, "GET", `${API}/rooms`, {
              token: user.token,
              headers: from("198.51.100.12"),
            })
          ).status,
      },
      {
        name: "access-token guessing on the WebSocket upgrade",
        address: "198.51.100.13",
        guess: async (i) => {
          const opened = await openSocket(
            instance.url,
            `${user.token.slice(0, -6)}BBB${String(i).padStart(3, "0")}`,
            from("198.51.100.13"),
          );
          if ("socket" in opened) {
            const code = await opened.socket.closed;
            return { status: code === 4001 ? 401 : code, retry: null };
          }
          return { status: opened.status, retry: opened.retryAfter ?? null };
        },
        right: async () => {
          const opened = await openSocket(instance.url, user.token, from("198.51.100.13"));
          if ("socket" in opened) {
            opened.socket.close();
            return 101;
          }
          return opened.status;
        },
      },
    ];
    const outcomes = new Tally();
    for (const door of doors) {
      const statuses: number[] = [];
      let retryOk = true;
      for (let i = 0; i < guesses; i++) {
        const r = await door.guess(i);
        statuses.push(r.status);
        outcomes.add(r.status);
        if (r.status === 429 && !(Number(r.retry) > 0)) retryOk = false;
        // The counter is written just after each answer.
        if (i === limit - 1) await sleep(300);
      }
      attempts += guesses + 1;
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
    const elsewhere = await call(instance.url, "GET", `${API}/rooms`, {
      token: user.token,
      headers: from("198.51.100.99"),
    });
    checks.push({ name: "other addresses are unaffected", ok: elsewhere.status === 200 });
    // A valid principal flooding requests hits RATE_LIMIT_PER_MINUTE (40 here; above the guess count, which the brute-force guard stops first).
    const flood = new Tally();
    let retry: string | null = null;
    for (let i = 0; i < 50; i++) {
      const r = await call(instance.url, "GET", `${API}/rooms`, {
        token: user.token,
        headers: from("198.51.100.100"),
      });
      flood.add(r.status);
      if (r.status === 429) retry = r.headers.get("retry-after");
    }
    attempts += 50;
    const floodOk = flood.count(429) >= 9 && Number(retry) > 0;
    if (!floodOk) failures++;
    checks.push({
      name: "one principal's request flood → 429 with Retry-After (RATE_LIMIT_PER_MINUTE)",
      ok: floodOk,
      detail: flood.toString(),
    });
    return {
      id: "auth-brute-force",
      title:
        "Credential brute force (API keys, refresh tokens, access tokens on REST and WS) and request floods",
      attempts,
      expected: `401 until AUTH_FAILURES_PER_MINUTE (${limit}) failures per address, then 429 + Retry-After for every attempt`,
      outcome: `${outcomes}; request flood: ${flood}`,
      failures,
      checks,
    };
  } finally {
    await instance.stop();
  }
}

export async function idleConnections(scale: Scale): Promise<AttackResult> {
  const cap = scale === "short" ? 20 : 100;
  const tries = cap + (scale === "short" ? 10 : 50);
  const instance = await startInstance({ env: { WS_MAX_CONNECTIONS_PER_ADDRESS: String(cap) } });
  const checks: Check[] = [];
  const sockets: Socket[] = [];
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
    for (const s of sockets) s.close();
    await instance.stop();
  }
}
