// Token attacks: forged, expired and mis-addressed access tokens on REST and on the WebSocket
// upgrade (the WS auth step), and racing refreshes of one refresh token.
import type { AttackResult, Scale } from "../lib/results";
import { startInstance } from "./lib/instance";
import { forgeries } from "./lib/jwt";
import { API, call, connect, createTenant, openSocket } from "../../toolbox/chat-client";
import { Tally } from "./lib/tally";

type Check = AttackResult["checks"][number];

export async function forgedTokens(_scale: Scale): Promise<AttackResult> {
  // Shipped defaults. The brute-force guard (30 failures per address a minute) would turn these
  // 401s into 429s and has its own attack: each forgery comes from an address of its own (the
  // instance believes one proxy hop, which loopback stands for here).
  const instance = await startInstance();
  const checks: Check[] = [];
  const rest = new Tally();
  const ws = new Tally();
  let failures = 0;
  try {
    const a = await createTenant(instance.url, instance.secrets.adminApiKey, "tokens-a");
    const b = await createTenant(instance.url, instance.secrets.adminApiKey, "tokens-b");
    const alice = await a.newUser("alice");
    const mallory = await b.newUser("mallory");
    // The genuine token works: otherwise every 401 below proves nothing.
    const genuine = await call(instance.url, "GET", `${API}/rooms`, { token: alice.token });
    const socket = await connect(instance.url, alice.token).catch(() => undefined);
    checks.push({
      name: "the genuine token is accepted (REST 200, WebSocket ready)",
      ok: genuine.status === 200 && !!socket,
    });
    socket?.terminate();

    const forged = forgeries(alice.token, instance.secrets.SECRET_KEY, mallory.id, b.clientId);
    const wrong: string[] = [];
    for (const [i, { name, token }] of forged.entries()) {
      const from = { "x-forwarded-for": `198.18.100.${i + 1}` };
      const reply = await call<{ error?: { code?: string } }>(instance.url, "GET", `${API}/rooms`, {
        token,
        headers: from,
      });
      rest.add(reply.status);
      const opened = await openSocket(instance.url, token, from);
      let wsOutcome: string;
      if ("socket" in opened) {
        const code = await Promise.race([
          opened.socket.closed,
          new Promise<number>((r) => setTimeout(() => r(0), 10_000)),
        ]);
        const gotReady = opened.socket.frames.some((f) => f.type === "ready");
        opened.socket.terminate();
        wsOutcome = gotReady ? "ready" : `close ${code}`;
      } else wsOutcome = `HTTP ${opened.status}`;
      ws.add(wsOutcome);
      const ok = reply.status === 401 && wsOutcome === "close 4001";
      if (!ok) {
        failures++;
        wrong.push(`${name}: REST ${reply.status} ${reply.body?.error?.code ?? ""}, WS ${wsOutcome}`);
      }
    }
    checks.push({
      name: `every forged, expired or mis-addressed token (${forged.length} kinds) → 401 on REST`,
      ok: rest.count(401) === forged.length,
      detail: rest.toString(),
    });
    checks.push({
      name: "… and close 4001 on the WebSocket upgrade (never ready)",
      ok: ws.count("close 4001") === forged.length,
      detail: wrong.length ? wrong.join("; ") : ws.toString(),
    });
    return {
      id: "forged-tokens",
      title:
        "Forged access tokens: alg none, algorithm confusion, wrong key, expired, wrong issuer/audience, tampered",
      attempts: forged.length * 2,
      expected: "401 on REST and close 4001 on /ws for every forged token",
      outcome: `REST ${rest}; WS ${ws}`,
      failures,
      checks,
    };
  } finally {
    await instance.stop();
  }
}

export async function refreshRace(scale: Scale): Promise<AttackResult> {
  // Shipped defaults; each round's racers come from an address of their own (losers' 401s count
  // as failed authentications).
  const instance = await startInstance();
  const rounds = scale === "short" ? 4 : 25;
  const checks: Check[] = [];
  const outcomes = new Tally();
  let failures = 0;
  let bothFailed = 0;
  let multiWinners = 0;
  let notRevoked = 0;
  try {
    const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "refresh");
    for (let round = 0; round < rounds; round++) {
      const user = await tenant.newUser(`racer-${round}`);
      const racers = scale === "short" ? 2 : 2 + (round % 4);
      const from = { "x-forwarded-for": `198.18.${round}.1` };
      const replies = await Promise.all(
        Array.from({ length: racers }, () =>
          call<{ refresh_token?: string; error?: { code: string } }>(
            instance.url,
            "POST",
            `${API}/auth/refresh`,
            { body: { refresh_token: user.refresh }, headers: from },
          ),
        ),
      );
      const won = replies.filter((r) => r.status === 200);
      for (const r of replies) outcomes.add(r.status === 200 ? "200" : `${r.status} ${r.body.error?.code}`);
      if (won.length > 1) {
        multiWinners++;
        failures += won.length - 1;
      }
      if (won.length === 0) {
        bothFailed++;
        failures++;
      }
      // Reuse was detected: whatever the winner got is revoked with the family.
      for (const w of won) {
        const next = await call<{ error?: { code: string } }>(instance.url, "POST", `${API}/auth/refresh`, {
          body: { refresh_token: w.body.refresh_token },
          headers: from,
        });
        outcomes.add(`winner's new token: ${next.status} ${next.body.error?.code ?? ""}`.trim());
        if (next.status !== 401) {
          notRevoked++;
          failures++;
        }
      }
    }
    checks.push({
      name: "at most one of the concurrent refreshes of one token succeeds",
      ok: multiWinners === 0,
      detail: outcomes.toString(),
    });
    // A refresh that always fails would pass the check above: one racer must win each round.
    checks.push({
      name: "exactly one wins: the token still works once when raced",
      ok: bothFailed === 0,
      detail: `rounds where every racer lost: ${bothFailed} of ${rounds}`,
    });
    checks.push({
      name: "the family is revoked: the winner's new refresh token is refused",
      ok: notRevoked === 0,
      detail: `${notRevoked} not revoked`,
    });
    return {
      id: "refresh-race",
      title: "Concurrent refreshes with the same refresh token",
      attempts: outcomes.total,
      expected: "at most one 200 per token, the rest 401 refresh_token_reused, and the family revoked",
      outcome: outcomes.toString(),
      failures,
      checks,
    };
  } finally {
    await instance.stop();
  }
}
