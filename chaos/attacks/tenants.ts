// Tenant isolation: tenant B's key and tokens call every endpoint with tenant A's ids (client,
// users, rooms, messages), and each probe is repeated with a random id of the same kind. The
// two answers must be the same status and the same body (ids masked): nothing returned, and no
// hint that A's id exists.
import { randomUUID } from "node:crypto";
import type { AttackResult, Scale } from "../lib/results";
import { startInstance } from "./lib/instance";
import { API, call, type ChatSocket, connect, createTenant, type Reply } from "../../toolbox/chat-client";
import { Tally } from "./lib/tally";

type Check = AttackResult["checks"][number];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const mask = (text: string) => text.replace(UUID, "<id>");

interface Probe {
  name: string;
  /** Runs the probe with `id` standing for the victim's id (or a random one). */
  run(id: string): Promise<{ status: number | string; text: string; data: boolean }>;
}

const rest =
  (
    base: string,
    method: string,
    path: (id: string) => string,
    auth: { apiKey?: string; token?: string },
    body?: (id: string) => unknown,
  ) =>
  async (id: string) => {
    const reply: Reply = await call(base, method, path(id), { ...auth, body: body?.(id) });
    return { status: reply.status, text: mask(reply.text), data: reply.status < 300 };
  };

/** A WebSocket frame and the first answer that refers to it (by ref). */
const frame =
  (socket: ChatSocket, make: (id: string, ref: string) => Record<string, unknown>) => async (id: string) => {
    const ref = `probe-${randomUUID()}`;
    const from = socket.frames.length;
    socket.send(make(id, ref));
    const answer = await socket.next(
      (f) => f.ref === ref || f.client_msg_id === ref || (f.type !== "message" && f.room_id === id),
      from,
    );
    const leaked = socket.frames
      .slice(from)
      .some((f) => f.type === "message" || f.type === "subscribed" || f.type === "ack");
    const text = answer ? mask(JSON.stringify({ ...answer, ref: undefined })) : "(no answer)";
    return { status: answer?.type ?? "none", text, data: leaked };
  };

export async function tenantIsolation(scale: Scale): Promise<AttackResult> {
  const instance = await startInstance(); // shipped limits
  const checks: Check[] = [];
  const outcomes = new Tally();
  const differences: string[] = [];
  let failures = 0;
  let attempts = 0;
  const base = instance.url;
  try {
    const a = await createTenant(base, instance.secrets.adminApiKey, "victim");
    const b = await createTenant(base, instance.secrets.adminApiKey, "attacker");
    const [a1, a2, b1, b2] = await Promise.all([
      a.newUser("alice"),
      a.newUser("anne"),
      b.newUser("bob"),
      b.newUser("bea"),
    ]);
    const roomA = await call<{ id: string }>(base, "POST", `${API}/rooms`, {
      token: a1!.token,
      body: { name: "secret plans", member_ids: [a2!.id] },
    });
    const roomB = await call<{ id: string }>(base, "POST", `${API}/rooms`, {
      token: b1!.token,
      body: { name: "b's room", member_ids: [b2!.id] },
    });
    for (let i = 0; i < 3; i++)
      await call(base, "POST", `${API}/rooms/${roomA.body.id}/messages`, {
        token: a1!.token,
        body: { body: `top secret ${i}`, client_msg_id: `a-${i}` },
      });
    const RA = roomA.body.id;
    const RB = roomB.body.id;
    const socket = await connect(base, b1!.token);
    const bKey = { apiKey: b.apiKey };
    const bTok = { token: b1!.token };
    const aTokOnB = { token: a1!.token };

    const probes: Array<{ probe: Probe; victimId: string }> = [
      {
        probe: {
          name: "GET /clients/{A} with B's (non-admin) key",
          run: rest(base, "GET", (id) => `${API}/clients/${id}`, bKey),
        },
        victimId: a.clientId,
      },
      {
        probe: {
          name: "GET /clients/{A} with B's user token",
          run: rest(base, "GET", (id) => `${API}/clients/${id}`, bTok),
        },
        victimId: a.clientId,
      },
      {
        probe: {
          name: "POST /auth/token for A's user with B's key",
          run: rest(
            base,
            "POST",
            () => `${API}/auth/token`,
            bKey,
            (id) => ({ user_id: id }),
          ),
        },
        victimId: a1!.id,
      },
      {
        probe: {
          name: "POST /rooms with A's user as member",
          run: rest(
            base,
            "POST",
            () => `${API}/rooms`,
            bTok,
            (id) => ({ name: "grab", member_ids: [id] }),
          ),
        },
        victimId: a1!.id,
      },
      {
        probe: {
          name: "POST /rooms/{A's room}/members (add self)",
          run: rest(
            base,
            "POST",
            (id) => `${API}/rooms/${id}/members`,
            bTok,
            () => ({ user_id: b1!.id }),
          ),
        },
        victimId: RA,
      },
      {
        probe: {
          name: "POST /rooms/{B's room}/members with A's user",
          run: rest(
            base,
            "POST",
            () => `${API}/rooms/${RB}/members`,
            bTok,
            (id) => ({ user_id: id }),
          ),
        },
        victimId: a1!.id,
      },
      {
        probe: {
          name: "DELETE /rooms/{A's room}/members/{A's user}",
          run: rest(base, "DELETE", (id) => `${API}/rooms/${id}/members/${a2!.id}`, bTok),
        },
        victimId: RA,
      },
      {
        probe: {
          name: "DELETE /rooms/{B's room}/members/{A's user}",
          run: rest(base, "DELETE", (id) => `${API}/rooms/${RB}/members/${id}`, bTok),
        },
        victimId: a1!.id,
      },
      {
        probe: {
          name: "POST /rooms/{A's room}/messages",
          run: rest(
            base,
            "POST",
            (id) => `${API}/rooms/${id}/messages`,
            bTok,
            () => ({ body: "hi", client_msg_id: `x-${randomUUID()}` }),
          ),
        },
        victimId: RA,
      },
      {
        probe: {
          name: "GET /rooms/{A's room}/messages",
          run: rest(base, "GET", (id) => `${API}/rooms/${id}/messages?after_seq=0`, bTok),
        },
        victimId: RA,
      },
      {
        probe: {
          name: "GET /rooms/{A's room}/messages?before_seq",
          run: rest(base, "GET", (id) => `${API}/rooms/${id}/messages?before_seq=100&limit=200`, bTok),
        },
        victimId: RA,
      },
      {
        probe: {
          name: "A's user token on B's room messages",
          run: rest(base, "GET", (id) => `${API}/rooms/${id}/messages`, aTokOnB),
        },
        victimId: RB,
      },
      {
        probe: {
          name: "A's user token adds itself to B's room",
          run: rest(
            base,
            "POST",
            (id) => `${API}/rooms/${id}/members`,
            aTokOnB,
            () => ({ user_id: a1!.id }),
          ),
        },
        victimId: RB,
      },
      {
        probe: {
          name: "WS subscribe to A's room (after_seq 0)",
          run: frame(socket, (id, ref) => ({ type: "subscribe", room_id: id, after_seq: 0, ref })),
        },
        victimId: RA,
      },
      {
        probe: {
          name: "WS send to A's room",
          run: frame(socket, (id, ref) => ({
            type: "send",
            room_id: id,
            body: "hi",
            client_msg_id: ref,
            ref,
          })),
        },
        victimId: RA,
      },
      {
        probe: {
          name: "WS unsubscribe from A's room",
          run: frame(socket, (id, ref) => ({ type: "unsubscribe", room_id: id, ref })),
        },
        victimId: RA,
      },
    ];
    const repeats = scale === "short" ? 1 : 5;
    for (let round = 0; round < repeats; round++) {
      for (const { probe, victimId } of probes) {
        const real = await probe.run(victimId);
        const random = await probe.run(randomUUID());
        attempts += 2;
        outcomes.add(real.status);
        const same = real.status === random.status && real.text === random.text;
        if (real.data || !same) {
          failures++;
          differences.push(
            `${probe.name}: victim's id → ${real.status} ${real.text}; random id → ${random.status} ${random.text}`,
          );
        }
      }
    }
    socket.terminate();
    // B's lists never show A's things; A's room still has only A's members and messages.
    const bRooms = await call(base, "GET", `${API}/rooms`, bTok);
    const listedA = JSON.stringify(bRooms.body).includes(RA) || JSON.stringify(bRooms.body).includes(a1!.id);
    const aRoom = await call<Array<{ id: string; member_ids: string[] }>>(base, "GET", `${API}/rooms`, {
      token: a1!.token,
    });
    const members = aRoom.body.find((r) => r.id === RA)?.member_ids ?? [];
    const history = await call<{ messages: Array<{ sender_id: string }> }>(
      base,
      "GET",
      `${API}/rooms/${RA}/messages`,
      { token: a1!.token },
    );
    const intruded =
      members.some((m) => m === b1!.id) ||
      history.body.messages.some((m) => m.sender_id === b1!.id) ||
      members.length !== 2;
    attempts += 1;
    if (listedA) failures++;
    if (intruded) failures++;
    checks.push({
      name: `every probe (${probes.length} kinds × ${repeats}) returned no data`,
      ok: !differences.some((d) => d.includes("→ 2")),
      detail: outcomes.toString(),
    });
    checks.push({
      name: "the victim's ids answer exactly like random ids (status and body)",
      ok: differences.length === 0,
      detail: differences.join("; ") || undefined,
    });
    checks.push({ name: "B's room list shows nothing of A's", ok: !listedA });
    checks.push({
      name: "A's room still has only A's members and messages",
      ok: !intruded,
      detail: `members ${members.length}, messages ${history.body.messages.length}`,
    });
    return {
      id: "tenant-isolation",
      title: "Another tenant's ids and tokens on every endpoint (REST and WebSocket)",
      attempts,
      expected: "the same answer as for a random id (404/403/401, WS error), never data",
      outcome: `${outcomes}; ${differences.length} differences from a random id`,
      failures,
      checks,
    };
  } finally {
    await instance.stop();
  }
}
