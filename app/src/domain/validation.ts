// Field rules shared by REST bodies and WebSocket frames.
import { z } from "zod";

export const MAX_BODY_CHARS = 4000;

/** Counts characters as Unicode code points (as PostgreSQL's char_length does), not UTF-16 units. */
export function charLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/**
 * Text that is stored must not hold U+0000: PostgreSQL text cannot, and the insert failed with a
 * 500 (found by the fuzzing attack). A pattern, so the OpenAPI document states the rule too.
 */
// eslint-disable-next-line no-control-regex -- matching the control character is the point
export const NO_NUL = /^[^\u0000]*$/;
export const NO_NUL_MESSAGE = "must not contain the NUL character (U+0000)";

/** A stored text field: `min`..`max` characters (after trimming when `trim`), no NUL. */
export const storedText = (min: number, max: number, options: { trim?: boolean } = {}) =>
  (options.trim ? z.string().trim() : z.string()).min(min).max(max).regex(NO_NUL, NO_NUL_MESSAGE);

export const messageBody = z
  .string()
  .regex(NO_NUL, NO_NUL_MESSAGE)
  .refine((v) => v.length > 0 && charLength(v) <= MAX_BODY_CHARS, {
    message: `must be 1 to ${MAX_BODY_CHARS} characters`,
  })
  .meta({ description: `1 to ${MAX_BODY_CHARS} characters`, minLength: 1, maxLength: MAX_BODY_CHARS });

export const clientMsgId = storedText(1, 128).meta({
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
