// Job `notification.digest` (one per batch, delayed by the batching window): one e-mail about
// the messages of a (user, room) batch.
//
// 1. The batch is closed ('pending' → 'sending'): later messages open a new batch.
// 2. A user who is connected somewhere now is skipped (they are reading the room).
// 3. In one transaction: the idempotency key `digest:<batch id>` is inserted into
//    email_deliveries (the claim), the mail is handed to SMTP, the batch is marked 'sent', and
//    the transaction commits. A crash or an SMTP failure before the commit rolls the claim back
//    and the job is redone; a duplicate delivery of the job waits on the uncommitted claim and
//    then finds it taken. The one window left is between the SMTP server accepting the mail and
//    the commit: a crash there sends the mail again on redelivery (at-least-once; see README).
import type { Redis } from "ioredis";
import type pg from "pg";
import { z } from "zod";
import { connectedUsers } from "../../infra/presence.js";
import type { JobOutcome } from "../consumer.js";
import { renderDigest, type DigestMessage } from "../digest-email.js";
import { PermanentJobError, type Job } from "../job.js";
import type { Mailer } from "../mailer.js";
import { NOTIFICATION_DIGEST } from "./message-posted.js";

const payloadSchema = z.object({ batch_id: z.uuid() });

export interface DigestDeps {
  pool: pg.Pool;
  redis: Redis;
  redisPrefix: string;
  mailer: Mailer | undefined;
  projectName: string;
  onSent?: () => void;
}

interface Batch {
  id: string;
  user_id: string;
  room_id: string;
  first_seq: number;
  last_seq: number;
}

/** Messages listed in one e-mail; the rest are counted. */
export const DIGEST_MAX_LISTED = 10;

export function notificationDigestHandler(deps: DigestDeps) {
  return async (job: Job): Promise<JobOutcome> => {
    const parsed = payloadSchema.safeParse(job.payload);
    if (!parsed.success) {
      throw new PermanentJobError(`bad ${NOTIFICATION_DIGEST} payload: ${parsed.error.message}`);
    }
    const batchId = parsed.data.batch_id;
    const { rows } = await deps.pool.query<Batch>(
      `UPDATE notification_batches SET status = 'sending'
        WHERE id = $1 AND status IN ('pending', 'sending')
        RETURNING id, user_id, room_id, first_seq, last_seq`,
      [batchId],
    );
    const batch = rows[0];
    if (!batch) return "duplicate"; // sent or skipped before (or its room/user was deleted)

    if (!deps.mailer) return finish(deps.pool, batchId, "skipped", "no SMTP server configured");
    const online = await connectedUsers(deps.redis, deps.redisPrefix, [batch.user_id]);
    if (online.size > 0) return finish(deps.pool, batchId, "skipped", "user connected");

    const content = await loadContent(deps.pool, batch);
    if (!content.email) return finish(deps.pool, batchId, "skipped", "user has no e-mail address");
    if (content.messages.length === 0) return finish(deps.pool, batchId, "skipped", "messages are gone");
    const mail = renderDigest({
      projectName: deps.projectName,
      recipientName: content.displayName,
      roomName: content.roomName,
      messages: content.messages,
      total: content.total,
    });
    const key = `digest:${batchId}`;

    const db = await deps.pool.connect();
    let broken: Error | undefined;
    try {
      // A twin delivery of this job waits on the claim for our commit or rollback, never longer
      // than the lock timeout. (One round trip for both statements.)
      await db.query("BEGIN; SET LOCAL lock_timeout = '120s'");
      const claim = await db.query(
        `INSERT INTO email_deliveries (idempotency_key, recipient, subject) VALUES ($1, $2, $3)
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [key, content.email, mail.subject],
      );
      if (claim.rowCount === 0) {
        await markFinished(db, batchId, "sent", null);
        await db.query("COMMIT");
        return "duplicate";
      }
      const sent = await deps.mailer.send({
        to: { name: content.displayName, address: content.email },
        subject: mail.subject,
        text: mail.text,
        messageId: `<${key.replace(":", ".")}@${deps.mailer.domain}>`,
      });
      await db.query(
        `WITH delivery AS (
           UPDATE email_deliveries SET smtp_message_id = $3, smtp_response = $4 WHERE idempotency_key = $2
         )
         UPDATE notification_batches SET status = 'sent', finished_at = now() WHERE id = $1`,
        [batchId, key, sent.messageId, sent.response.slice(0, 500)],
      );
      await db.query("COMMIT");
      deps.onSent?.();
      return "done";
    } catch (error) {
      await db.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      db.release(broken);
    }
  };
}

async function finish(
  pool: pg.Pool,
  batchId: string,
  status: "skipped",
  detail: string,
): Promise<JobOutcome> {
  await markFinished(pool, batchId, status, detail);
  return "skipped";
}

function markFinished(
  db: pg.Pool | pg.PoolClient,
  batchId: string,
  status: "sent" | "skipped",
  detail: string | null,
) {
  return db.query(
    "UPDATE notification_batches SET status = $2, detail = $3, finished_at = now() WHERE id = $1",
    [batchId, status, detail],
  );
}

interface DigestContent {
  email: string | null;
  displayName: string;
  roomName: string;
  messages: DigestMessage[];
  total: number;
}

async function loadContent(pool: pg.Pool, batch: Batch): Promise<DigestContent> {
  const [user, room, messages] = await Promise.all([
    pool.query<{ email: string | null; display_name: string }>(
      "SELECT email, display_name FROM users WHERE id = $1",
      [batch.user_id],
    ),
    pool.query<{ name: string }>("SELECT name FROM rooms WHERE id = $1", [batch.room_id]),
    pool.query<DigestMessage & { total: number }>(
      `SELECT s.display_name AS sender, m.body, m.created_at, count(*) OVER ()::int AS total
         FROM messages m JOIN users s ON s.id = m.sender_id
        WHERE m.room_id = $1 AND m.seq BETWEEN $2 AND $3 AND m.sender_id <> $4
        ORDER BY m.seq LIMIT $5`,
      [batch.room_id, batch.first_seq, batch.last_seq, batch.user_id, DIGEST_MAX_LISTED],
    ),
  ]);
  return {
    email: user.rows[0]?.email ?? null,
    displayName: user.rows[0]?.display_name ?? "",
    roomName: room.rows[0]?.name ?? "",
    messages: messages.rows.map(({ sender, body, created_at }) => ({ sender, body, created_at })),
    total: messages.rows[0]?.total ?? 0,
  };
}
