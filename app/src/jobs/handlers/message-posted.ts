// Job `message.posted` (one per committed batch of messages in a room): decides who gets an
// e-mail about them. Candidates are members with an e-mail address who did not write the
// messages and had joined before them; those connected anywhere (presence in Redis) are left
// out. Each remaining user's pending batch for the room is opened or widened; opening one also
// schedules its digest job (an outbox row with the batching delay). All of it, and the job id,
// commit in one statement: a redelivered job finds its id and changes nothing.
import type { Redis } from "ioredis";
import type pg from "pg";
import { z } from "zod";
import { connectedUsers } from "../../infra/presence.js";
import type { JobOutcome } from "../consumer.js";
import { PermanentJobError, type Job } from "../job.js";

export const MESSAGE_POSTED = "message.posted";
export const NOTIFICATION_DIGEST = "notification.digest";

const payloadSchema = z.object({
  room_id: z.uuid(),
  from_seq: z.number().int().positive(),
  to_seq: z.number().int().positive(),
});

export interface MessagePostedDeps {
  pool: pg.Pool;
  redis: Redis;
  redisPrefix: string;
  /** Window of a batch: its digest is sent this long after its first message. */
  batchDelayMs: number;
  /** False when no SMTP server is configured: nothing to batch. */
  emailEnabled: boolean;
}

interface Candidate {
  user_id: string;
  first_seq: number;
  last_seq: number;
  count: number;
}

const CANDIDATES = `
SELECT m.user_id, min(msg.seq) AS first_seq, max(msg.seq) AS last_seq, count(*)::int AS count
  FROM room_members m
  JOIN users u ON u.id = m.user_id AND u.email IS NOT NULL
  JOIN messages msg ON msg.room_id = m.room_id AND msg.seq BETWEEN $2 AND $3
                   AND msg.sender_id <> m.user_id AND msg.created_at >= m.joined_at
 WHERE m.room_id = $1
 GROUP BY m.user_id`;

// One statement, so one round trip and one implicit transaction: claims the job id, then (only
// if the claim is new) opens or widens each user's pending batch, and schedules the digest of
// every batch it opened. A duplicate delivery finds the id taken (waiting for a twin still in
// flight) and changes nothing. (xmax = 0 tells a row this statement inserted from one it updated.)
const RECORD_BATCHES = `
WITH claimed AS (
  INSERT INTO job_runs (job_id, type) VALUES ($7, $8) ON CONFLICT DO NOTHING RETURNING job_id
), input AS (
  SELECT * FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::int[]) AS i(user_id, first_seq, last_seq, n)
   WHERE EXISTS (SELECT 1 FROM claimed)
), upserted AS (
  INSERT INTO notification_batches AS b (user_id, room_id, first_seq, last_seq, message_count)
  SELECT i.user_id, $1, i.first_seq, i.last_seq, i.n FROM input i
  ON CONFLICT (user_id, room_id) WHERE status = 'pending'
  DO UPDATE SET first_seq = LEAST(b.first_seq, EXCLUDED.first_seq),
                last_seq = GREATEST(b.last_seq, EXCLUDED.last_seq),
                message_count = b.message_count + EXCLUDED.message_count
  RETURNING b.id, (b.xmax = 0) AS opened
), scheduled AS (
  INSERT INTO outbox (type, payload, delay_ms)
  SELECT '${NOTIFICATION_DIGEST}', jsonb_build_object('batch_id', id), $6 FROM upserted WHERE opened
)
SELECT (SELECT count(*) FROM claimed)::int AS claimed`;

export function messagePostedHandler(deps: MessagePostedDeps) {
  return async (job: Job): Promise<JobOutcome> => {
    const parsed = payloadSchema.safeParse(job.payload);
    if (!parsed.success)
      throw new PermanentJobError(`bad ${MESSAGE_POSTED} payload: ${parsed.error.message}`);
    const { room_id: roomId, from_seq: fromSeq, to_seq: toSeq } = parsed.data;
    if (!deps.emailEnabled) return "skipped";

    const { rows: candidates } = await deps.pool.query<Candidate>({
      name: "notify_candidates",
      text: CANDIDATES,
      values: [roomId, fromSeq, toSeq],
    });
    // Redis down: fail (and retry) rather than e-mail people who may be online.
    const online = await connectedUsers(
      deps.redis,
      deps.redisPrefix,
      candidates.map((c) => c.user_id),
    );
    const offline = candidates.filter((c) => !online.has(c.user_id));

    const { rows } = await deps.pool.query<{ claimed: number }>({
      name: "notify_record_batches",
      text: RECORD_BATCHES,
      values: [
        roomId,
        offline.map((c) => c.user_id),
        offline.map((c) => c.first_seq),
        offline.map((c) => c.last_seq),
        offline.map((c) => c.count),
        deps.batchDelayMs,
        job.id,
        job.type,
      ],
    });
    if (rows[0]?.claimed !== 1) return "duplicate";
    return offline.length > 0 ? "done" : "skipped";
  };
}
