// Field rules shared by REST bodies and WebSocket frames.
import { z } from "zod";

export const MAX_BODY_CHARS = 4000;

/** Counts characters as Unicode code points (as PostgreSQL's char_length does), not UTF-16 units. */
export function charLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

export const messageBody = z
  .string()
  .refine((v) => v.length > 0 && charLength(v) <= MAX_BODY_CHARS, {
    message: `must be 1 to ${MAX_BODY_CHARS} characters`,
  })
  .meta({ description: `1 to ${MAX_BODY_CHARS} characters`, minLength: 1, maxLength: MAX_BODY_CHARS });

export const clientMsgId = z.string().min(1).max(128).meta({
  description: "Idempotency key chosen by the sender: the same value again returns the stored message",
});

export const uuid = z.uuid();
export const seq = z.number().int().min(0);

/** Turns zod issues into the error envelope's details: one entry per field. */
export function fieldErrors(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join(".") : "(body)",
    message: issue.message,
  }));
}
