// The job envelope on the wire: JSON `{type, payload}` with the job id as the AMQP message id,
// the outbox row's creation time (for lag) and the attempt number in headers.
import type { Message, Options } from "amqplib";

export interface Job {
  id: string;
  type: string;
  payload: unknown;
  /** When the job was created (the outbox row), ms since the epoch. */
  createdAt: number;
  /** 1 for the first try; retries published by the worker carry the next number. */
  attempt: number;
}

export const ATTEMPT_HEADER = "x-chatapi-attempt";
export const CREATED_HEADER = "x-chatapi-created-at";
export const ERROR_HEADER = "x-chatapi-error";

export function encodeJob(
  job: Job,
  extraHeaders: Record<string, string | number> = {},
): {
  content: Buffer;
  options: Options.Publish;
} {
  return {
    content: Buffer.from(JSON.stringify({ type: job.type, payload: job.payload })),
    options: {
      persistent: true,
      messageId: job.id,
      type: job.type,
      contentType: "application/json",
      timestamp: Math.floor(job.createdAt / 1000),
      headers: { [ATTEMPT_HEADER]: job.attempt, [CREATED_HEADER]: job.createdAt, ...extraHeaders },
    },
  };
}

/** Reads a delivery; throws for anything that is not a job (it goes to the dead-letter queue). */
export function decodeJob(message: Message): Job {
  const headers = message.properties.headers ?? {};
  let body: { type?: unknown; payload?: unknown };
  try {
    body = JSON.parse(message.content.toString("utf8")) as typeof body;
  } catch {
    throw new Error("the message body is not JSON");
  }
  const id = message.properties.messageId as string | undefined;
  if (typeof body.type !== "string" || !id)
    throw new Error("the message is not a job (no type or message id)");
  const attempt = Number(headers[ATTEMPT_HEADER] ?? 1);
  const createdAt = Number(headers[CREATED_HEADER] ?? (message.properties.timestamp as number) * 1000);
  return {
    id,
    type: body.type,
    payload: body.payload,
    createdAt: Number.isFinite(createdAt) ? createdAt : Date.now(),
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
  };
}

/** A failure that retrying cannot fix (bad payload, a mail server's 5xx): dead-letter at once. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}
