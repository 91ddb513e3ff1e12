// The web console (WEB_CONSOLE, off by default; local stacks turn it on): `/` serves a small page
// that signs in with a client key, picks a user, lists and creates rooms, shows a room's history
// and its live messages over the WebSocket; `/console/api-reference/` renders this app's OpenAPI
// document with Swagger UI (swagger-ui-dist, served from node_modules). With
// WEB_CONSOLE_DEV_LOGIN (never in production) `POST /console/dev-login` hands out an API key of a
// dev client, so a local stack's console needs no key pasted.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import express, { Router, type RequestHandler } from "express";
import { addApiKey, createClient, findClientByEmail } from "../domain/clients.js";
import { isUniqueViolation } from "../db/pool.js";
import type { AppContext } from "./context.js";

/** The dev login's client: one per database, created on first use. */
export const DEV_CLIENT = { name: "Web console (dev login)", email: "console-dev@chatapi.invalid" };

const consoleDir = fileURLToPath(new URL("../../console/", import.meta.url));
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

async function devClientKey(ctx: AppContext): Promise<{ client_id: string; api_key: string }> {
  const existing = await findClientByEmail(ctx.pool, DEV_CLIENT.email);
  if (existing) return { client_id: existing.id, api_key: await addApiKey(ctx.pool, existing.id) };
  try {
    const { client, apiKey } = await createClient(ctx.pool, DEV_CLIENT);
    return { client_id: client.id, api_key: apiKey };
  } catch (error) {
    // Two first logins at once: the other one created it.
    if (!isUniqueViolation(error, "clients_email_key")) throw error;
    return devClientKey(ctx);
  }
}

export function consoleRoutes(ctx: AppContext, limit: RequestHandler): Router {
  const router = Router();
  const files = { index: false, fallthrough: true, maxAge: 0 } as const;
  router.get("/", (_req, res) => res.sendFile("index.html", { root: consoleDir }));
  router.get("/console/config.json", (_req, res) => {
    res.json({ apiPrefix: ctx.config.API_V1_STR, devLogin: ctx.config.WEB_CONSOLE_DEV_LOGIN });
  });
  router.get("/console/api-reference/", (_req, res) =>
    res.sendFile("api-reference/index.html", { root: consoleDir }),
  );
  router.use("/console/swagger-ui", express.static(swaggerUiDir, files));
  router.use("/console", express.static(consoleDir, files));
  if (ctx.config.WEB_CONSOLE_DEV_LOGIN) {
    router.post("/console/dev-login", limit, async (req, res) => {
      const key = await devClientKey(ctx);
      req.log.info({ client_id: key.client_id }, "console dev login: API key issued");
      res.status(201).json(key);
    });
  }
  return router;
}
