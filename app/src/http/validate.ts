// Request validation: malformed JSON is a 400 (body parser), a JSON body of the wrong shape a
// 422 naming every bad field.
import type { Request } from "express";
import type { z } from "zod";
import { ApiError } from "../domain/errors.js";
import { fieldErrors } from "../domain/validation.js";

export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  if (req.body === undefined) {
    throw new ApiError(
      400,
      "malformed_request",
      "the request body must be JSON (Content-Type: application/json)",
    );
  }
  return parseOrThrow(schema, req.body, "body");
}

export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  return parseOrThrow(schema, req.query, "query");
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = fieldErrors(result.error);
  throw new ApiError(
    422,
    "validation_failed",
    `invalid ${where}: ${details.map((d) => `${d.field} ${d.message}`).join("; ")}`,
    details,
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID cannot name anything: 404, like any unknown id. */
export function pathId(req: Request, name: string, what: string): string {
  const value = req.params[name];
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new ApiError(404, `${what}_not_found`, `${what} not found`);
  }
  return value.toLowerCase();
}
