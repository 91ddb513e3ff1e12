// The OpenAPI document stays in step with the app: every Express route is documented, every
// documented operation is routed, and real requests and responses validate against it.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInProcess, type InProcessServer } from "./support/in-process.js";
import { appEnv, createAdminKey, createTestDatabase, type TestDatabase } from "./support/services.js";
import { call, createTenant } from "../../toolbox/chat-client.js";

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: object }> };
        responses: Record<string, { content?: Record<string, { schema: object }> }>;
      }
    >
  >;
};

let db: TestDatabase;
let server: InProcessServer;
let doc: Doc;
let adminKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = await createAdminKey(db.url);
  server = await startInProcess(appEnv(db.url, { RATE_LIMIT_PER_MINUTE: "100000" }));
  doc = (await call<Doc>(server.url, "GET", "/api/v1/openapi.json")).body;
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

/** "METHOD /path/{param}" for every route registered on the Express app. */
function expressRoutes(stack: Layer[], prefix = ""): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = `${prefix}${layer.route.path}`.replace(/:(\w+)/g, "{$1}");
      return Object.keys(layer.route.methods)
        .filter((m) => m !== "_all")
        .map((m) => `${m.toUpperCase()} ${path}`);
    }
    if (layer.handle.stack) {
      const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
      return expressRoutes(layer.handle.stack, prefix + mount);
    }
    return [];
  });
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

function expectValid(schema: object, value: unknown, what: string) {
  const validate = ajv.compile(schema);
  expect(validate(value), `${what}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 and documents exactly the routes Express serves", () => {
    expect(doc.openapi).toBe("3.1.0");
    const routed = expressRoutes(
      (server.app as unknown as { router: { stack: Layer[] } }).router.stack,
    ).sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(routed).toEqual(documented);
    expect(routed).toContain("POST /api/v1/rooms/{id}/messages");
    expect(routed.length).toBeGreaterThanOrEqual(16);
  });

  it("real requests and responses validate against the document", async () => {
    const base = server.url;
    const checked: string[] = [];
    const check = async (
      method: string,
      template: string,
      path: string,
      options: Parameters<typeof call>[3] = {},
    ) => {
      const reply = await call(base, method, path, options);
      const op = doc.paths[template]?.[method.toLowerCase()];
      expect(op, `${method} ${template} documented`).toBeDefined();
      if (options.body !== undefined && op!.requestBody && reply.status < 300) {
        expectValid(
          op!.requestBody.content["application/json"]!.schema,
          options.body,
          `${method} ${template} request`,
        );
      }
      const response = op!.responses[String(reply.status)];
      expect(response, `${method} ${template} documents status ${reply.status}`).toBeDefined();
      const schema = response!.content?.["application/json"]?.schema;
      if (schema) expectValid(schema, reply.body, `${method} ${template} ${reply.status} response`);
      checked.push(`${method} ${template} ${reply.status}`);
      return reply;
    };
    const p = "/api/v1";
    await check("GET", "/health", "/health");
    await check("GET", "/health/ready", "/health/ready");
    const client = await check("POST", `${p}/clients`, `${p}/clients`, {
      apiKey: adminKey,
      body: { name: "Doc", email: "doc@example.com" },
    });
    await check("POST", `${p}/clients`, `${p}/clients`, {
      apiKey: adminKey,
      body: { name: "Doc", email: "doc@example.com" },
    });
    await check("POST", `${p}/clients`, `${p}/clients`, { apiKey: adminKey, body: { name: 5 } });
    await check("POST", `${p}/clients`, `${p}/clients`, { apiKey: adminKey, rawBody: "{" });
    await check("GET", `${p}/clients`, `${p}/clients`, { apiKey: adminKey });
    await check("GET", `${p}/clients/{id}`, `${p}/clients/${client.body.id as string}`, { apiKey: adminKey });
    await check("GET", `${p}/clients/{id}`, `${p}/clients/00000000-0000-4000-8000-000000000000`, {
      apiKey: adminKey,
    });
    const t = await createTenant(base, adminKey, "doc");
    await check("GET", `${p}/clients`, `${p}/clients`, { apiKey: t.apiKey });
    const user = await check("POST", `${p}/users`, `${p}/users`, {
      apiKey: t.apiKey,
      body: { external_id: "e1", display_name: "E", email: "e@example.com" },
    });
    await check("POST", `${p}/users`, `${p}/users`, {
      apiKey: t.apiKey,
      body: { external_id: "e1", display_name: "E" },
    });
    const pair = await check("POST", `${p}/auth/token`, `${p}/auth/token`, {
      apiKey: t.apiKey,
      body: { user_id: user.body.id },
    });
    const fresh = await check("POST", `${p}/auth/refresh`, `${p}/auth/refresh`, {
      body: { refresh_token: pair.body.refresh_token },
    });
    await check("POST", `${p}/auth/refresh`, `${p}/auth/refresh`, {
      body: { refresh_token: pair.body.refresh_token },
    });
    const token = fresh.body.access_token as string;
    const other = await t.newUser("other");
    const room = await check("POST", `${p}/rooms`, `${p}/rooms`, {
      token,
      body: { name: "doc room", member_ids: [] },
    });
    await check("GET", `${p}/rooms`, `${p}/rooms`, { token });
    await check("GET", `${p}/rooms`, `${p}/rooms`);
    const roomPath = `${p}/rooms/${room.body.id as string}`;
    await check("POST", `${p}/rooms/{id}/members`, `${roomPath}/members`, {
      token,
      body: { user_id: other.id },
    });
    await check("POST", `${p}/rooms/{id}/messages`, `${roomPath}/messages`, {
      token,
      body: { body: "hi", client_msg_id: "d1" },
    });
    await check("POST", `${p}/rooms/{id}/messages`, `${roomPath}/messages`, {
      token,
      body: { body: "hi", client_msg_id: "d1" },
    });
    await check("POST", `${p}/rooms/{id}/messages`, `${roomPath}/messages`, {
      token,
      body: { body: "x".repeat(70_000) },
    });
    await check("GET", `${p}/rooms/{id}/messages`, `${roomPath}/messages?after_seq=0&limit=10`, { token });
    await check("GET", `${p}/rooms/{id}/messages`, `${roomPath}/messages?limit=1000`, { token });
    await check("DELETE", `${p}/rooms/{id}/members/{user_id}`, `${roomPath}/members/${other.id}`, { token });
    await check("DELETE", `${p}/rooms/{id}/members/{user_id}`, `${roomPath}/members/${other.id}`, { token });
    expect(checked).toContain(`POST ${p}/rooms/{id}/messages 413`);
    expect(checked).toContain(`POST ${p}/clients 409`);
    expect(checked).toContain(`GET ${p}/clients 403`);
  });
});
