// The web console's server side (WEB_CONSOLE, WEB_CONSOLE_DEV_LOGIN) on a real instance and the
// shared PostgreSQL/Redis: off by default (nothing at / or /console/), the page, its script, the
// API reference with the vendored Swagger UI, the dev login handing out working keys of one dev
// client, and the settings refused where they do not belong. The console in a browser:
// test/docker/web-console.docker.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/env.js";
import { DEV_CLIENT } from "../src/http/console.js";
import { startInProcess, type InProcessServer } from "./support/in-process.js";
import { appEnv, createTestDatabase, type TestDatabase } from "./support/services.js";
import { call } from "../../toolbox/chat-client.js";

let db: TestDatabase;
let off: InProcessServer;
let on: InProcessServer;

beforeAll(async () => {
  db = await createTestDatabase();
  off = await startInProcess(appEnv(db.url));
  on = await startInProcess(appEnv(db.url, { WEB_CONSOLE: "true", WEB_CONSOLE_DEV_LOGIN: "true" }));
});

afterAll(async () => {
  await Promise.all([off?.stop(), on?.stop()]);
  await db?.drop();
});

const text = async (base: string, path: string) => {
  const response = await fetch(`${base}${path}`);
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    body: await response.text(),
  };
};

describe("the web console", () => {
  it("is off by default: /, the console files and the dev login answer 404", async () => {
    for (const path of ["/", "/console/console.js", "/console/config.json", "/console/api-reference/"])
      expect((await text(off.url, path)).status, path).toBe(404);
    expect((await call(off.url, "POST", "/console/dev-login")).status).toBe(404);
  });

  it("serves the page, its script and the API reference with Swagger UI when on", async () => {
    const page = await text(on.url, "/");
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="/console/console.js"></script>');
    const script = await text(on.url, "/console/console.js");
    expect(script.type).toMatch(/javascript/);
    expect(script.body).toContain("new WebSocket(");
    const config = await call(on.url, "GET", "/console/config.json");
    expect(config.body).toEqual({ apiPrefix: "/api/v1", devLogin: true });
    const reference = await text(on.url, "/console/api-reference/");
    expect(reference.body).toContain("/console/swagger-ui/swagger-ui-bundle.js");
    const bundle = await text(on.url, "/console/swagger-ui/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(500_000);
    // Only the console's own folder and Swagger UI's files: nothing else of the app's disk.
    expect((await text(on.url, "/console/../package.json")).status).toBe(404);
    expect((await text(on.url, "/console/swagger-ui/package.json")).status).toBe(200); // swagger-ui-dist's own
    expect((await text(on.url, "/metrics")).status).toBe(200); // the app's; nginx never routes it
  });

  it("hands out a new working API key of one dev client on every dev login", async () => {
    const first = await call<{ client_id: string; api_key: string }>(on.url, "POST", "/console/dev-login");
    const second = await call<{ client_id: string; api_key: string }>(on.url, "POST", "/console/dev-login");
    expect(first.status).toBe(201);
    expect(second.body.client_id).toBe(first.body.client_id);
    expect(second.body.api_key).not.toBe(first.body.api_key);
    for (const key of [first.body.api_key, second.body.api_key]) {
      const user = await call(on.url, "POST", "/api/v1/users", {
        apiKey: key,
        body: { external_id: "alice", display_name: "alice" },
      });
      expect([200, 201]).toContain(user.status);
    }
    const pg = (await import("pg")).default;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT count(*)::int AS n FROM clients WHERE email = $1", [
        DEV_CLIENT.email,
      ]);
      expect(rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });

  it("refuses the dev login in production and without the console", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
    };
    expect(
      problems({ ENVIRONMENT: "production", WEB_CONSOLE: "true", WEB_CONSOLE_DEV_LOGIN: "true" }),
    ).toEqual([
      "WEB_CONSOLE_DEV_LOGIN: not allowed when ENVIRONMENT=production (it hands out API keys without credentials)",
    ]);
    expect(problems({ WEB_CONSOLE_DEV_LOGIN: "true" })).toEqual([
      "WEB_CONSOLE_DEV_LOGIN: needs WEB_CONSOLE=true (the dev login belongs to the console)",
    ]);
    expect(problems({ ENVIRONMENT: "production", WEB_CONSOLE: "true" })).toEqual([]);
  });
});
