// Input fuzzing with fast-check: every REST operation of the OpenAPI document the instance serves
// (bodies, path and query parameters, credentials, content types) and every WebSocket frame type.
// Properties: never a 5xx or an `internal_error`, the process stays up, and its memory stays
// bounded (RSS sampled before and after).
import fc from "fast-check";
import type { AttackResult, Scale } from "../lib/results";
import { startInstance, type Instance } from "./lib/instance";
import { arbitraryFor, printable, type JsonSchema } from "./lib/schema-arbitrary";
import { API, call, connect, createTenant } from "../../toolbox/chat-client";
import { Tally } from "./lib/tally";

type Check = AttackResult["checks"][number];

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  schema?: JsonSchema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
  security: string[];
}

interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Parameter[];
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
        security?: Array<Record<string, unknown>>;
      }
    >
  >;
}

function operations(doc: OpenApi): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content["application/json"]?.schema,
      security: (op.security ?? []).flatMap((s) => Object.keys(s)),
    })),
  );
}

const MB = 1024 * 1024;

/** The (bounded) memory check: RSS after the run may not exceed RSS before by more than this. */
const RSS_GROWTH_LIMIT = 150 * MB;

interface Credentials {
  /** The admin client's key (for /clients), a tenant's key (users, tokens) and its user's token. */
  adminKey: string;
  apiKey: string;
  userToken: string;
}

function requestArbitrary(op: Operation, ids: string[], creds: Credentials) {
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const queryParams = op.parameters.filter((p) => p.in === "query");
  const paramValue = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...ids) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "..",
        "%2e%2e",
        "00000000-0000-0000-0000-000000000000",
        "a".repeat(3000),
        "%",
        "\u0000",
      ),
    },
  );
  const queryValue = fc.oneof(
    fc.nat().map(String),
    fc.integer().map(String),
    fc.constantFrom("1e3", "0x10", "-0", "9007199254740993", "Infinity", "", "[]", "1.5", " 7 "),
    printable(40),
  );
  const query = fc.dictionary(
    fc.oneof(fc.constantFrom(...queryParams.map((p) => p.name), "limit[x]", "after_seq[]"), printable(12)),
    fc.oneof(queryValue, fc.array(queryValue, { maxLength: 3 })),
    { maxKeys: 4 },
  );
  const credential = fc.oneof(
    { weight: 8, arbitrary: fc.constant("right") },
    {
      weight: 2,
      arbitrary: fc.constantFrom("none", "other-kind", "garbage", "bearer-garbage", "both"),
    },
  );
  const body = op.body
    ? fc.oneof(
        { weight: 7, arbitrary: arbitraryFor(op.body, { ids }).map((v) => ({ json: v })) },
        {
          weight: 1,
          arbitrary: fc
            .string({ unit: "binary", maxLength: 200 })
            .map((raw) => ({ raw, type: "application/json" })),
        },
        {
          weight: 1,
          arbitrary: fc.jsonValue().map((v) => ({
            raw: JSON.stringify(v),
            type: fc.sample(
              fc.constantFrom(
                "text/plain",
                "application/x-www-form-urlencoded",
                "application/vnd.api+json; charset=latin1",
              ),
              1,
            )[0]!,
          })),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            { raw: "{".repeat(5000), type: "application/json" },
            { raw: `{"body":"${"x".repeat(70_000)}"}`, type: "application/json" },
            { raw: "", type: "application/json" },
          ),
        },
      )
    : fc.constant(undefined);
  return fc
    .record({
      params: fc.tuple(...pathParams.map(() => paramValue)),
      query,
      credential,
      body,
    })
    .map((input) => {
      let path = op.path;
      pathParams.forEach(
        (p, i) => (path = path.replace(`{${p.name}}`, encodeURIComponent(String(input.params[i])))),
      );
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(input.query))
        for (const one of [v].flat()) search.append(k, String(one));
      const wantsUser = op.security.includes("userToken");
      const right = wantsUser
        ? { token: creds.userToken }
        : op.security.length
          ? { apiKey: op.path.includes("/clients") ? creds.adminKey : creds.apiKey }
          : {};
      const choices: Record<string, { token?: string; apiKey?: string; headers?: Record<string, string> }> = {
        right,
        none: {},
        "other-kind": wantsUser ? { apiKey: creds.apiKey } : { token: creds.userToken },
        garbage: { headers: { "x-api-key": "cak_" + "z".repeat(40) } },
        "bearer-garbage": { headers: { authorization: "Bearer " + "a.b.c" } },
        both: { apiKey: creds.apiKey, token: creds.userToken },
      };
      const auth = choices[input.credential]!;
      return { op, path: `${path}${search.size ? `?${search}` : ""}`, auth, body: input.body };
    });
}

/** The shrunk counterexample (without the operation's schema) and the seed to replay it. */
function describeFailure(result: {
  counterexample: unknown[] | null;
  seed: number;
  counterexamplePath: string | null;
}): string {
  const [input] = (result.counterexample ?? []) as unknown[];
  const shown =
    input && typeof input === "object" && "op" in input
      ? (({ op: _op, ...rest }) => rest)(input as { op: unknown })
      : input;
  return `counterexample ${JSON.stringify(shown)?.slice(0, 500)} (seed ${result.seed}, path ${result.counterexamplePath})`;
}

async function fuzzRest(
  instance: Instance,
  runs: number,
  statuses: Tally,
  problems: string[],
): Promise<number> {
  const doc = (await call<OpenApi>(instance.url, "GET", `${API}/openapi.json`)).body;
  const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "fuzz");
  const users = [await tenant.newUser("fuzz-1"), await tenant.newUser("fuzz-2")];
  const room = await call<{ id: string }>(instance.url, "POST", `${API}/rooms`, {
    token: users[0]!.token,
    body: { name: "fuzz room", member_ids: [users[1]!.id] },
  });
  const ids = [tenant.clientId, room.body.id, ...users.map((u) => u.id)];
  const creds = { adminKey: instance.secrets.adminApiKey, apiKey: tenant.apiKey, userToken: users[0]!.token };
  let attempts = 0;
  for (const op of operations(doc)) {
    const result = await fc.check(
      fc.asyncProperty(requestArbitrary(op, ids, creds), async (request) => {
        attempts++;
        const body = request.body as { json?: unknown; raw?: string; type?: string } | undefined;
        const options = {
          ...request.auth,
          ...(body?.raw !== undefined
            ? {
                rawBody: body.raw,
                headers: {
                  ...("headers" in request.auth ? request.auth.headers : {}),
                  "content-type": body.type ?? "application/json",
                },
              }
            : body
              ? { body: body.json }
              : {}),
        };
        let status: number;
        await pace(REST_PER_SECOND);
        const from = { "x-forwarded-for": `198.19.${(attempts >> 8) & 255}.${attempts & 255}` };
        try {
          status = (
            await call(instance.url, op.method, request.path, {
              ...options,
              headers: { ...("headers" in options ? options.headers : {}), ...from },
            })
          ).status;
        } catch (error) {
          status = 0; // the connection broke: a crash or a hang
          problems.push(`${op.method} ${request.path}: ${(error as Error).message}`);
        }
        statuses.add(status);
        return status > 0 && status < 500;
      }),
      { numRuns: runs, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: false },
    );
    if (result.failed) problems.push(`${op.method} ${op.path}: ${describeFailure(result)}`);
  }
  return attempts;
}

/** Frames of every type with mostly-valid, partly hostile fields, plus raw garbage. */
function frameArbitrary(roomId: string) {
  const field = (valid: fc.Arbitrary<unknown>) => arbitraryMix(valid);
  const arbitraryMix = (valid: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 4, arbitrary: valid },
      { weight: 1, arbitrary: arbitraryFor({}, { ids: [roomId], hostility: 1 }) },
    );
  const room = field(fc.oneof(fc.constant(roomId), fc.uuid(), fc.constant(roomId.toUpperCase())));
  const typed = fc.record(
    {
      type: field(fc.constantFrom("subscribe", "unsubscribe", "send", "ping")),
      room_id: room,
      after_seq: field(fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer())),
      body: field(fc.string({ unit: "grapheme", minLength: 1, maxLength: 400 })),
      client_msg_id: field(fc.string({ minLength: 1, maxLength: 130 })),
      ref: field(fc.string({ maxLength: 210 })),
    },
    { requiredKeys: ["type"] },
  );
  return fc.oneof(
    { weight: 8, arbitrary: typed.map((f) => JSON.stringify(f)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 300 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "[".repeat(10_000),
        `{"type":"send","body":"${"y".repeat(60_000)}"}`,
        "{}",
        "null",
      ),
    },
  );
}

async function fuzzWebSocket(
  instance: Instance,
  runs: number,
  frames: Tally,
  problems: string[],
): Promise<number> {
  const tenant = await createTenant(instance.url, instance.secrets.adminApiKey, "fuzz-ws");
  const user = await tenant.newUser("ws-fuzzer");
  const room = await call<{ id: string }>(instance.url, "POST", `${API}/rooms`, {
    token: user.token,
    body: { name: "ws fuzz" },
  });
  let socket = await connect(instance.url, user.token);
  let attempts = 0;
  const result = await fc.check(
    fc.asyncProperty(frameArbitrary(room.body.id), async (frame) => {
      attempts++;
      if (socket.closeCode !== undefined) socket = await connect(instance.url, user.token);
      await pace(WS_ROUNDS_PER_SECOND);
      const from = socket.frames.length;
      socket.ws.send(frame);
      // A ping after every frame: its pong proves the connection still works (frames are answered in order).
      const ping = `{"type":"ping"}`;
      socket.ws.send(ping);
      const pong = await socket.next((f) => f.type === "pong", from, 15_000);
      for (const f of socket.frames.slice(from))
        frames.add(f.type === "error" ? `error ${String(f.code)}` : f.type);
      const internal = socket.frames.slice(from).find((f) => f.code === "internal_error");
      if (internal) problems.push(`frame ${String(frame).slice(0, 200)} → ${JSON.stringify(internal)}`);
      if (!pong) {
        // Only an oversized frame may end the connection (1009), as documented.
        const ok = socket.closeCode === 1009;
        frames.add(`close ${socket.closeCode ?? "none"}`);
        if (!ok) problems.push(`frame ${String(frame).slice(0, 200)} → no pong, close ${socket.closeCode}`);
        return ok;
      }
      return !internal;
    }),
    { numRuns: runs, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: false },
  );
  if (result.failed) problems.push(`WebSocket: ${describeFailure(result)}`);
  // Late answers (async sends, subscribes) are checked too.
  await new Promise((r) => setTimeout(r, 500));
  if (socket.frames.some((f) => f.code === "internal_error")) problems.push("a late internal_error frame");
  socket.terminate();
  return attempts;
}

/** Under RATE_LIMIT_PER_MINUTE (6000) for one principal. */
const REST_PER_SECOND = 90;
/** Two frames a round (the frame and a ping): under WS_SEND_RATE_PER_SECOND (200). */
const WS_ROUNDS_PER_SECOND = 80;

/** Waits so that calls sharing `rate` come at most that many times a second. */
const paced = new Map<number, number>();
async function pace(rate: number): Promise<void> {
  const next = Math.max(Date.now(), paced.get(rate) ?? 0);
  paced.set(rate, next + 1000 / rate);
  const wait = next - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

export async function inputFuzzing(scale: Scale): Promise<AttackResult> {
  // Shipped limits: the fuzzer stays under them (each request from an address of its own, at
  // most 90 requests a second per principal, 160 frames a second per socket) so that its
  // inputs reach the handlers instead of the guards.
  const instance = await startInstance();
  const checks: Check[] = [];
  const statuses = new Tally();
  const frames = new Tally();
  const restProblems: string[] = [];
  const wsProblems: string[] = [];
  try {
    // Warm up (JIT, pools) before the baseline sample.
    for (let i = 0; i < 20; i++) await call(instance.url, "GET", "/health");
    const rssBefore = instance.rss();
    const restRuns = scale === "short" ? 40 : 400;
    const wsRuns = scale === "short" ? 150 : 2000;
    const restAttempts = await fuzzRest(instance, restRuns, statuses, restProblems);
    const wsAttempts = await fuzzWebSocket(instance, wsRuns, frames, wsProblems);
    const rssAfter = instance.rss();
    const health = await call(instance.url, "GET", "/health").catch(() => ({ status: 0 }));
    const server5xx = [...Array(100).keys()].reduce((n, i) => n + statuses.count(500 + i), 0);
    checks.push({
      name: "no REST request answered 5xx or broke the connection",
      ok: restProblems.length === 0 && server5xx === 0,
      detail: restProblems.join(" | ") || statuses.toString(),
    });
    checks.push({
      name: "no WebSocket frame got internal_error or killed the connection",
      ok: wsProblems.length === 0,
      detail: wsProblems.join(" | ") || frames.toString(),
    });
    checks.push({
      name: "the process is alive and healthy afterwards",
      ok: instance.alive() && health.status === 200,
    });
    const growth = rssAfter - rssBefore;
    checks.push({
      name: `memory bounded: RSS grew less than ${RSS_GROWTH_LIMIT / MB} MB`,
      ok: growth < RSS_GROWTH_LIMIT,
      detail: `RSS ${(rssBefore / MB).toFixed(0)} MB → ${(rssAfter / MB).toFixed(0)} MB`,
    });
    return {
      id: "input-fuzzing",
      title: "fast-check fuzzing of every OpenAPI operation and every WebSocket frame type",
      attempts: restAttempts + wsAttempts,
      expected: "4xx for bad input, never 5xx/internal_error, process up, RSS bounded",
      outcome: `REST (${restAttempts}): ${statuses}; WS (${wsAttempts}): ${frames}; RSS ${(rssBefore / MB).toFixed(0)} → ${(rssAfter / MB).toFixed(0)} MB`,
      failures: restProblems.length + wsProblems.length + server5xx + (instance.alive() ? 0 : 1),
      checks,
    };
  } catch (error) {
    // Say whether the instance died, and what it said last.
    const state = instance.alive() ? "still running" : "exited";
    const telling = instance.output.filter((l) => !l.includes('"level":"info"')).slice(-10);
    throw new Error(
      `${(error as Error).message} (${String((error as { cause?: unknown }).cause ?? "")}); the instance ${state}; what it said besides request logs:\n${telling.join("\n")}`,
    );
  } finally {
    await instance.stop();
  }
}
