// Helpers for tests of the worker: its environment, users with e-mail addresses, polling.
import { call, createTenant } from "../../../toolbox/chat-client.js";
import { required, uniqueSuffix } from "./services.js";

/** Worker settings for tests: the SMTP sink, short batching window and fast outbox polling. */
export function workerEnv(apiEnv: Record<string, string>, extra: Record<string, string> = {}) {
  return {
    ...apiEnv,
    METRICS_PORT: "0",
    SMTP_HOST: required("CHATAPI_TEST_SMTP_HOST"),
    SMTP_PORT: required("CHATAPI_TEST_SMTP_PORT"),
    EMAILS_FROM_EMAIL: "notifications@chatapi.test",
    NOTIFICATION_BATCH_SECONDS: "2",
    OUTBOX_POLL_INTERVAL_MS: "50",
    WORKER_RETRY_BASE_SECONDS: "0.2",
    ...extra,
  };
}

/** A tenant whose users carry unique e-mail addresses (or none). */
export async function mailTenant(base: string, adminKey: string, label: string) {
  const tenant = await createTenant(base, adminKey, label);
  const tag = uniqueSuffix();
  const user = async (name: string, withEmail = true) => {
    const email = withEmail ? `${name}-${tag}@mail.chatapi.test` : undefined;
    const created = await call<{ id: string }>(base, "POST", "/api/v1/users", {
      apiKey: tenant.apiKey,
      body: { external_id: `${name}-${tag}`, display_name: name, ...(email ? { email } : {}) },
    });
    if (created.status !== 201)
      throw new Error(`creating user: ${created.status} ${JSON.stringify(created.body)}`);
    const tokens = await call<{ access_token: string }>(base, "POST", "/api/v1/auth/token", {
      apiKey: tenant.apiKey,
      body: { user_id: created.body.id },
    });
    return { id: created.body.id, name, email, token: tokens.body.access_token };
  };
  return { ...tenant, user };
}

export async function createRoomWith(
  base: string,
  owner: { token: string },
  name: string,
  memberIds: string[],
): Promise<string> {
  const room = await call<{ id: string }>(base, "POST", "/api/v1/rooms", {
    token: owner.token,
    body: { name, member_ids: memberIds },
  });
  if (room.status !== 201) throw new Error(`creating room: ${room.status} ${JSON.stringify(room.body)}`);
  return room.body.id;
}

export async function postMessage(base: string, sender: { token: string }, roomId: string, body: string) {
  const sent = await call<{ seq: number }>(base, "POST", `/api/v1/rooms/${roomId}/messages`, {
    token: sender.token,
    body: { body },
  });
  if (sent.status !== 201) throw new Error(`sending: ${sent.status} ${JSON.stringify(sent.body)}`);
  return sent.body;
}

/** Polls until `check` returns a value other than undefined/false (bounded). */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads one sample of a Prometheus text exposition (sum over matching label sets). */
export async function metricValue(port: number, name: string, labels: Record<string, string> = {}) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}
