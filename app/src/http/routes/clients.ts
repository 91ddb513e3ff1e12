// /clients: tenant management with an admin client's API key.
import { Router } from "express";
import { createClient, getClient, listClients } from "../../domain/clients.js";
import { requireClientKey } from "../auth.js";
import type { AppContext } from "../context.js";
import { createClientBody } from "../schemas.js";
import { parseBody, pathId } from "../validate.js";
import type { RequestHandler } from "express";

export function clientRoutes(ctx: AppContext, limit: RequestHandler): Router {
  const router = Router();
  const admin = requireClientKey(ctx, { admin: true });

  router.post("/clients", admin, limit, async (req, res) => {
    const input = parseBody(createClientBody, req);
    const { client, apiKey } = await createClient(ctx.pool, input);
    req.log.info({ client_id: client.id, is_admin: client.is_admin }, "client created");
    res.status(201).json({ ...client, api_key: apiKey });
  });

  router.get("/clients", admin, limit, async (_req, res) => {
    res.json(await listClients(ctx.pool));
  });

  router.get("/clients/:id", admin, limit, async (req, res) => {
    res.json(await getClient(ctx.pool, pathId(req, "id", "client")));
  });

  return router;
}
