// The smoke check of a deployed stack, through its load balancer: health, readiness, a new
// client, two users and a room, then two WebSocket clients exchanging messages both ways.
// Every HTTPS and WSS connection verifies the server certificate (against the given CA).
import { randomUUID } from "node:crypto";
import { type StackEndpoint, StackClient } from "../../toolbox/stack-client";

export interface SmokeOptions extends StackEndpoint {
  adminApiKey: string;
}

export interface SmokeResult {
  checks: number;
  /** Instances the two WebSocket clients landed on. */
  instances: [string, string];
  clientId: string;
  roomId: string;
}

export type SmokeReporter = (line: string) => void;

export async function runSmoke(options: SmokeOptions, report: SmokeReporter): Promise<SmokeResult> {
  const chat = new StackClient(options);
  try {
    return await smoke(chat, options.adminApiKey, report);
  } finally {
    chat.close();
  }
}

async function smoke(chat: StackClient, adminApiKey: string, report: SmokeReporter): Promise<SmokeResult> {
  let checks = 0;
  const step = async <T>(
    what: string,
    action: () => Promise<T>,
    describe?: (value: T) => string,
  ): Promise<T> => {
    const started = Date.now();
    try {
      const value = await action();
      checks += 1;
      report(`ok    ${what}${describe ? `: ${describe(value)}` : ""} (${Date.now() - started} ms)`);
      return value;
    } catch (error) {
      throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  const tag = `smoke-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14)}-${randomUUID().slice(0, 6)}`;

  await step(
    "GET /health",
    async () => {
      const body = await chat.expect<{ status: string; version: string }>(200, "GET", "/health");
      if (body.status !== "healthy") throw new Error(`status is ${body.status}`);
      return body;
    },
    (b) => `healthy, version ${b.version}`,
  );
  await step(
    "GET /health/ready",
    async () => {
      const body = await chat.expect<{ checks?: Record<string, { ok: boolean }> }>(
        200,
        "GET",
        "/health/ready",
      );
      return Object.keys(body.checks ?? {}).join(", ");
    },
    (names) => `ready (${names})`,
  );

  const client = await step(
    "POST /clients (admin key)",
    () =>
      chat.api<{ id: string; api_key: string }>(
        "POST",
        "/clients",
        { apiKey: adminApiKey },
        { name: tag, email: `${tag}@example.com` },
        [201],
      ),
    (c) => `client ${c.id}`,
  );
  const users = await step(
    "POST /users, POST /auth/token (two users)",
    () =>
      Promise.all(
        ["alice", "bob"].map(async (name) => {
          const user = await chat.api<{ id: string }>(
            "POST",
            "/users",
            { apiKey: client.api_key },
            { external_id: `${tag}-${name}`, display_name: name },
            [201],
          );
          const tokens = await chat.api<{ access_token: string }>(
            "POST",
            "/auth/token",
            { apiKey: client.api_key },
            { user_id: user.id },
            [200],
          );
          return { id: user.id, token: tokens.access_token };
        }),
      ),
    (u) => u.map((x) => x.id).join(", "),
  );
  const [alice, bob] = users as [(typeof users)[0], (typeof users)[0]];
  const room = await step(
    "POST /rooms",
    () =>
      chat.api<{ id: string }>(
        "POST",
        "/rooms",
        { token: alice.token },
        { name: tag, member_ids: [bob.id] },
        [201],
      ),
    (r) => `room ${r.id}`,
  );

  const sockets = await step(
    "two WebSocket clients through the load balancer",
    () => Promise.all([chat.openSocket(alice.token), chat.openSocket(bob.token)]),
    ([a, b]) => `alice on ${a.instance}, bob on ${b.instance}`,
  );
  const [a, b] = sockets;
  try {
    await step("subscribe both", async () => {
      for (const socket of sockets) {
        socket.send({ type: "subscribe", room_id: room.id, after_seq: 0 });
        await socket.waitFor((f) => f.type === "subscribed" && f.room_id === room.id);
      }
    });
    const body = `hello from alice (${tag})`;
    await step(
      "alice sends over WebSocket, bob receives",
      async () => {
        const clientMsgId = randomUUID();
        a.send({ type: "send", room_id: room.id, body, client_msg_id: clientMsgId });
        await a.waitFor((f) => f.type === "ack" && f.client_msg_id === clientMsgId);
        const frame = await b.waitFor(
          (f) => f.type === "message" && (f.message as { body: string }).body === body,
        );
        return (frame.message as { seq: number }).seq;
      },
      (seq) => `seq ${seq}`,
    );
    const reply = `hello from bob (${tag})`;
    await step(
      "bob sends over REST, alice receives",
      async () => {
        await chat.api(
          "POST",
          `/rooms/${room.id}/messages`,
          { token: bob.token },
          { body: reply, client_msg_id: randomUUID() },
          [201],
        );
        const frame = await a.waitFor(
          (f) => f.type === "message" && (f.message as { body: string }).body === reply,
        );
        return (frame.message as { seq: number }).seq;
      },
      (seq) => `seq ${seq}`,
    );
  } finally {
    a.close();
    b.close();
  }
  return { checks, instances: [a.instance, b.instance], clientId: client.id, roomId: room.id };
}
