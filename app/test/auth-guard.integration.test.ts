// Brute-force and connection-flood defences on a real instance (PostgreSQL, Redis): failed
// authentications per address (AUTH_FAILURES_PER_MINUTE) on REST and WebSocket upgrades, and
// open WebSockets per address (WS_MAX_CONNECTIONS_PER_ADDRESS).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startInProcess, type InProcessServer } from "./support/in-process.js";
import { SignJWT } from "jose";
import {
  appEnv,
  createAdminKey,
  createTestDatabase,
  TEST_SECRET_KEY,
  type TestDatabase,
} from "./support/services.js";
import { call, connect, createTenant, openUrl } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let server: InProcessServer;
let adminKey: string;
const api = "/api/v1";

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  server = await startInProcess(
    appEnv(db.url, { AUTH_FAILURES_PER_MINUTE: "5", WS_MAX_CONNECTIONS_PER_ADDRESS: "3" }),
  );
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

/** The server trusts loopback proxies, so a test can speak for any client address. */
const from = (address: string) => ({ "x-forwarded-for": address });

/** Status and Retry-After of a WebSocket upgrade that the server refuses. */
function refusedUpgrade(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; retry: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => {
      ws.close();
      reject(new Error("upgrade was accepted"));
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retry: res.headers["retry-after"] as string | undefined });
      ws.terminate();
    });
    ws.once("error", () => undefined);
  });
}

describe("failed authentications per address", () => {
  it("after AUTH_FAILURES_PER_MINUTE failures an address gets 429 with Retry-After, even with a valid key", async () => {
    const tenant = await createTenant(server.url, adminKey, "guard");
    const attacker = from("198.51.100.7");
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await call(server.url, "GET", `${api}/clients`, { apiKey: `cak_guess_${i}`, headers: attacker }))
          .status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    // The counter is written after the answer: give Redis a moment.
    await new Promise((r) => setTimeout(r, 200));
    const blocked = await call(server.url, "POST", `${api}/users`, {
      apiKey: tenant.apiKey,
      headers: attacker,
      body: { external_id: "x", display_name: "x" },
    });
    expect(blocked.status).toBe(429);
    expect((blocked.body as { error: { code: string } }).error.code).toBe("rate_limited");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    // Refresh-token guessing and WebSocket upgrades from that address are refused too.
    const refresh = await call(server.url, "POST", `${api}/auth/refresh`, {
      headers: attacker,
      body: { refresh_token: "crt_guess" },
    });
    expect(refresh.status).toBe(429);
    const user = await tenant.newUser("guard-user");
    const ws = await refusedUpgrade(`${server.url.replace("http", "ws")}/ws?token=${user.token}`, attacker);
    expect(ws.status).toBe(429);
    expect(Number(ws.retry)).toBeGreaterThan(0);
    // Another address is unaffected.
    const other = await call(server.url, "GET", `${api}/rooms`, {
      token: user.token,
      headers: from("198.51.100.8"),
    });
    expect(other.status).toBe(200);
  });

  it("bad tokens on WebSocket upgrades count as failures (close 4001 until the limit, then 429)", async () => {
    const ws = `${server.url.replace("http", "ws")}/ws?token=a.b.c`;
    const headers = from("198.51.100.9");
    for (let i = 0; i < 5; i++) {
      const socket = await openUrl(ws, { headers });
      expect(await socket.closed).toBe(4001);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await refusedUpgrade(ws, headers)).status).toBe(429);
  });
});

describe("what counts as a failure, and for which address", () => {
  it("an expired token with a valid signature is not a guess: a NAT of such clients is never locked out", async () => {
    const tenant = await createTenant(server.url, adminKey, "expired");
    const user = await tenant.newUser("sleepy");
    // Signed with the server's key, as the server signs them, and expired five minutes ago.
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ cid: tenant.clientId, typ: "access" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user.id)
      .setIssuer("chatapi")
      .setAudience("chatapi-api")
      .setIssuedAt(now - 3900)
      .setExpirationTime(now - 300)
      .sign(new TextEncoder().encode(TEST_SECRET_KEY));
    const nat = from("198.51.100.30");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await call<{ error: { code: string } }>(server.url, "GET", `${api}/rooms`, {
        token: expired,
        headers: nat,
      });
      statuses.push(r.status);
      expect(r.body.error.code).toBe("token_expired");
    }
    const ws = `${server.url.replace("http", "ws")}/ws?token=${expired}`;
    for (let i = 0; i < 6; i++) expect(await (await openUrl(ws, { headers: nat })).closed).toBe(4001);
    await new Promise((r) => setTimeout(r, 200));
    expect(statuses).toEqual(Array.from({ length: 12 }, () => 401));
    // Limit 5: the address would be blocked by now if those had counted.
    expect((await call(server.url, "GET", `${api}/rooms`, { token: user.token, headers: nat })).status).toBe(
      200,
    );
  });

  it("believes one proxy hop only: entries a client wrote into X-Forwarded-For do not give it new addresses", async () => {
    // What a proxy that appends (instead of setting) forwards: the client's own entry, then the
    // address the proxy saw (a private one here, like a client inside a NAT or a cluster).
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const spoofed = { "x-forwarded-for": `203.0.113.${100 + i}, 10.20.30.40` };
      statuses.push(
        (await call(server.url, "GET", `${api}/clients`, { apiKey: `cak_spoof_${i}`, headers: spoofed }))
          .status,
      );
      if (i === 4) await new Promise((r) => setTimeout(r, 200));
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
  });
});

describe("WebSockets per address", () => {
  it("holds at most WS_MAX_CONNECTIONS_PER_ADDRESS open; a slot frees when one closes", async () => {
    const tenant = await createTenant(server.url, adminKey, "conns");
    const user = await tenant.newUser("idle");
    const headers = from("203.0.113.20");
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await connect(server.url, user.token, headers));
    const url = `${server.url.replace("http", "ws")}/ws?token=${user.token}`;
    const refused = await refusedUpgrade(url, headers);
    expect(refused.status).toBe(429);
    expect(Number(refused.retry)).toBeGreaterThan(0);
    // Other addresses still connect.
    const elsewhere = await connect(server.url, user.token, from("203.0.113.21"));
    open[0]!.close();
    await open[0]!.closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = await connect(server.url, user.token, headers);
    for (const s of [...open.slice(1), elsewhere, again]) s.close();
  });
});
