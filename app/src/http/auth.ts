// Credentials: a client's API key (header X-API-Key, or Authorization: Bearer <key>) or a
// user's access token (Authorization: Bearer <jwt>). The wrong kind is a 401 that says which
// kind the endpoint needs.
import type { NextFunction, Request, Response } from "express";
import { clientForApiKey, type Client } from "../domain/clients.js";
import { ApiError, unauthorized } from "../domain/errors.js";
import type { AccessClaims } from "../domain/tokens.js";
import type { AppContext } from "./context.js";

declare module "express-serve-static-core" {
  interface Request {
    client?: Client;
    user?: AccessClaims;
    /** Who the rate limit counts against. */
    principal?: string;
  }
}

const looksLikeJwt = (value: string) => value.split(".").length === 3;

function presented(req: Request): { apiKey?: string; jwt?: string } {
  const header = req.headers["x-api-key"];
  if (typeof header === "string" && header.length > 0) return { apiKey: header };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (!match) return {};
  return looksLikeJwt(match[1]!) ? { jwt: match[1]! } : { apiKey: match[1]! };
}

export function requireClientKey(ctx: AppContext, options: { admin?: boolean } = {}) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const { apiKey, jwt } = presented(req);
    if (!apiKey) {
      throw jwt
        ? unauthorized(
            "api_key_required",
            "this endpoint needs a client API key (X-API-Key), not a user token",
          )
        : unauthorized("missing_credentials", "send the client API key in the X-API-Key header");
    }
    const client = await clientForApiKey(ctx.pool, apiKey);
    if (!client) throw unauthorized("invalid_api_key", "the API key is not valid");
    if (options.admin && !client.is_admin) {
      throw new ApiError(403, "admin_required", "this endpoint needs an admin client's API key");
    }
    req.client = client;
    req.principal = `c:${client.id}`;
    next();
  };
}

export function requireUser(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const { apiKey, jwt } = presented(req);
    if (!jwt) {
      throw apiKey
        ? unauthorized("user_token_required", "this endpoint needs a user access token, not a client API key")
        : unauthorized("missing_credentials", "send the user access token as Authorization: Bearer <token>");
    }
    req.user = await ctx.tokens.verifyAccessToken(jwt);
    req.principal = `u:${req.user.userId}`;
    next();
  };
}

export function actorOf(req: Request): { userId: string; clientId: string } {
  if (!req.user) throw new Error("requireUser must run first");
  return { userId: req.user.userId, clientId: req.user.clientId };
}

export function clientOf(req: Request): Client {
  if (!req.client) throw new Error("requireClientKey must run first");
  return req.client;
}
