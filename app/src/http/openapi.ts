// The OpenAPI 3.1 document of the REST API, generated from the zod schemas that validate the
// requests. A test checks that every Express route is documented and every documented
// operation exists, and validates real requests and responses against this document.
import { z } from "zod";
import * as s from "./schemas.js";

type Auth = "admin" | "client" | "user" | "none";

interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  query?: Array<{ name: string; description: string; schema: object }>;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  errors: number[];
}

const uuidParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", format: "uuid" },
});

/** Every operation under the API prefix (API_V1_STR). */
export const OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/clients",
    summary: "Create a client (tenant); its API key is shown once",
    auth: "admin",
    body: s.createClientBody,
    responses: { 201: { description: "Created", schema: s.createdClient } },
    errors: [400, 401, 403, 409, 413, 422, 429],
  },
  {
    method: "get",
    path: "/clients",
    summary: "List clients (no keys)",
    auth: "admin",
    responses: { 200: { description: "Clients", schema: s.clientList } },
    errors: [401, 403, 429],
  },
  {
    method: "get",
    path: "/clients/{id}",
    summary: "One client (no keys)",
    auth: "admin",
    responses: { 200: { description: "The client", schema: s.client } },
    errors: [401, 403, 404, 429],
  },
  {
    method: "post",
    path: "/users",
    summary: "Create a user of the calling client; the same external_id again returns the same user",
    auth: "client",
    body: s.createUserBody,
    responses: {
      201: { description: "Created", schema: s.user },
      200: { description: "A user with this external_id already exists", schema: s.user },
    },
    errors: [400, 401, 413, 422, 429],
  },
  {
    method: "post",
    path: "/auth/token",
    summary: "Issue an access/refresh token pair for one of the client's users",
    auth: "client",
    body: s.tokenBody,
    responses: { 200: { description: "Token pair", schema: s.tokenPair } },
    errors: [400, 401, 404, 413, 422, 429],
  },
  {
    method: "post",
    path: "/auth/refresh",
    summary: "Rotate a refresh token (single use; reuse revokes the whole family)",
    auth: "none",
    body: s.refreshBody,
    responses: { 200: { description: "New token pair", schema: s.tokenPair } },
    errors: [400, 401, 413, 422, 429],
  },
  {
    method: "post",
    path: "/rooms",
    summary: "Create a room; the creator is a member",
    auth: "user",
    body: s.createRoomBody,
    responses: { 201: { description: "Created", schema: s.room } },
    errors: [400, 401, 404, 413, 422, 429],
  },
  {
    method: "get",
    path: "/rooms",
    summary: "Rooms the user is a member of",
    auth: "user",
    responses: { 200: { description: "Rooms", schema: s.roomList } },
    errors: [401, 429],
  },
  {
    method: "post",
    path: "/rooms/{id}/members",
    summary: "Add a user of the same client to the room",
    auth: "user",
    body: s.addMemberBody,
    responses: { 204: { description: "Added (or already a member)" } },
    errors: [400, 401, 404, 413, 422, 429],
  },
  {
    method: "delete",
    path: "/rooms/{id}/members/{user_id}",
    summary: "Remove a member (their WebSocket subscriptions to the room end)",
    auth: "user",
    responses: { 204: { description: "Removed" } },
    errors: [401, 404, 429],
  },
  {
    method: "post",
    path: "/rooms/{id}/messages",
    summary: "Send a message; the same client_msg_id again returns the stored message",
    auth: "user",
    body: s.sendMessageBody,
    responses: {
      201: { description: "Stored and delivered", schema: s.message },
      200: { description: "Already stored under this client_msg_id", schema: s.message },
    },
    errors: [400, 401, 404, 413, 422, 429],
  },
  {
    method: "get",
    path: "/rooms/{id}/messages",
    summary: "History: after_seq (ascending, default 0) or before_seq (descending)",
    auth: "user",
    query: [
      {
        name: "after_seq",
        description: "Messages with seq greater than this, ascending",
        schema: { type: "integer", minimum: 0 },
      },
      {
        name: "before_seq",
        description: "Messages with seq less than this, descending",
        schema: { type: "integer", minimum: 0 },
      },
      {
        name: "limit",
        description: `Page size (1..${s.MAX_PAGE}, default 50)`,
        schema: { type: "integer", minimum: 1, maximum: s.MAX_PAGE, default: 50 },
      },
    ],
    responses: { 200: { description: "Messages", schema: s.messageList } },
    errors: [401, 404, 422, 429],
  },
];

const ERROR_TEXT: Record<number, string> = {
  400: "Malformed request (not JSON)",
  401: "Missing, invalid or expired credentials",
  403: "Authenticated but not allowed (admin key required)",
  404: "Not found (or not visible to the caller)",
  409: "Conflict with existing data",
  413: "Request body too large",
  422: "Invalid fields (details lists each)",
  429: "Rate limited (see Retry-After)",
  503: "The database is unreachable right now (database_unavailable; see Retry-After); safe to retry",
};

const SECURITY: Record<Auth, object[]> = {
  admin: [{ apiKey: [] }, { apiKeyBearer: [] }],
  client: [{ apiKey: [] }, { apiKeyBearer: [] }],
  user: [{ userToken: [] }],
  none: [],
};

export function jsonSchema(schema: z.ZodType, io: "input" | "output"): object {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  });
  return rest;
}

const json = (schema: object) => ({ "application/json": { schema } });

export function openApiDocument(options: { prefix: string; version: string; title: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  const errorSchema = jsonSchema(s.errorEnvelope, "output");
  for (const op of OPERATIONS) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => uuidParam(m[1]!, `${m[1]} (UUID)`));
    const responses: Record<string, object> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: json(jsonSchema(r.schema, "output")) } : {}),
      };
    }
    // Every operation reads or writes PostgreSQL, so every one can answer 503 while it is down.
    for (const status of [...op.errors, 503])
      responses[status] = { description: ERROR_TEXT[status], content: json(errorSchema) };
    (paths[`${options.prefix}${op.path}`] ??= {})[op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      security: SECURITY[op.auth],
      parameters: [...params, ...(op.query ?? []).map((q) => ({ ...q, in: "query", required: false }))],
      ...(op.body ? { requestBody: { required: true, content: json(jsonSchema(op.body, "input")) } } : {}),
      responses,
    };
  }
  const plain = (schema: z.ZodType, description: string, extra: Record<string, object> = {}) => ({
    get: {
      summary: description,
      security: [],
      responses: { 200: { description, content: json(jsonSchema(schema, "output")) }, ...extra },
    },
  });
  paths["/health"] = plain(s.health, "The process is up");
  paths["/health/ready"] = plain(
    s.readiness,
    "PostgreSQL, Redis (and this instance's subscription) and RabbitMQ answer",
    {
      503: {
        description: "A dependency failed (see checks)",
        content: json(jsonSchema(s.readiness, "output")),
      },
    },
  );
  paths["/metrics"] = {
    get: {
      summary: "Prometheus metrics",
      security: [],
      responses: {
        200: {
          description: "Prometheus text format",
          content: { "text/plain": { schema: { type: "string" } } },
        },
      },
    },
  };
  paths[`${options.prefix}/openapi.json`] = {
    get: {
      summary: "This document",
      security: [],
      responses: { 200: { description: "OpenAPI 3.1 document", content: json({ type: "object" }) } },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: options.title,
      version: options.version,
      description:
        "Multi-tenant real-time chat. Real-time delivery is the WebSocket at /ws (see API.md): frames subscribe/unsubscribe/send/ping → ready/subscribed/unsubscribed/message/ack/pong/error.",
    },
    components: {
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "A client's API key" },
        apiKeyBearer: { type: "http", scheme: "bearer", description: "A client's API key as a bearer token" },
        userToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A user's access token",
        },
      },
    },
    paths,
  };
}
