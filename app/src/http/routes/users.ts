// /users and /auth: a client's backend creates its users and gets tokens for them.
import { Router, type RequestHandler } from "express";
import { getUser, upsertUser } from "../../domain/users.js";
import { clientOf, requireClientKey } from "../auth.js";
import type { AppContext } from "../context.js";
import { createUserBody, refreshBody, tokenBody } from "../schemas.js";
import { parseBody } from "../validate.js";

export function userRoutes(ctx: AppContext, limit: RequestHandler): Router {
  const router = Router();
  const clientKey = requireClientKey(ctx);

  router.post("/users", clientKey, limit, async (req, res) => {
    const input = parseBody(createUserBody, req);
    const { user, created } = await upsertUser(ctx.pool, clientOf(req).id, input);
    res.status(created ? 201 : 200).json(user);
  });

  router.post("/auth/token", clientKey, limit, async (req, res) => {
    const { user_id } = parseBody(tokenBody, req);
    const client = clientOf(req);
    const user = await getUser(ctx.pool, client.id, user_id.toLowerCase());
    res.json(await ctx.tokens.issuePair(user.id, client.id));
  });

  // No credentials but the refresh token itself; rate-limited per source address.
  router.post("/auth/refresh", limit, async (req, res) => {
    const { refresh_token } = parseBody(refreshBody, req);
    res.json(await ctx.tokens.refresh(refresh_token));
  });

  return router;
}
