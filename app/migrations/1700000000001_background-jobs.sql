-- Up Migration

-- Transactional outbox: a row is written in the same transaction as the change that causes the
-- job (a message insert writes one row per batch) and relayed to RabbitMQ by the workers; the
-- row is deleted only after the broker confirmed the publish. delay_ms > 0 routes the job
-- through a delay queue first.
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id uuid NOT NULL DEFAULT gen_random_uuid(),
  type text NOT NULL,
  payload jsonb NOT NULL,
  delay_ms integer NOT NULL DEFAULT 0 CHECK (delay_ms >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Jobs whose whole effect is a database transaction record their id in that transaction, so a
-- redelivered (or twice published) job is recognised and changes nothing the second time.
CREATE TABLE job_runs (
  job_id uuid PRIMARY KEY,
  type text NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_runs_finished_at_idx ON job_runs (finished_at);

-- E-mail notifications are batched per (user, room): the first unseen message opens a pending
-- batch and schedules one delayed digest job; later messages only widen the batch. The digest
-- job moves it to 'sending' (new messages then open a new batch) and then to 'sent' or 'skipped'.
CREATE TABLE notification_batches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  message_count integer NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'skipped')),
  detail text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE UNIQUE INDEX notification_batches_pending_key ON notification_batches (user_id, room_id)
  WHERE status = 'pending';
CREATE INDEX notification_batches_finished_at_idx ON notification_batches (finished_at);
CREATE INDEX notification_batches_room_id_idx ON notification_batches (room_id);

-- One row per e-mail handed to SMTP, keyed by the job's idempotency key. The row is inserted
-- (claimed) before the SMTP conversation, in a transaction committed only after the server
-- accepted the mail: a crash before the commit rolls the claim back and the job is redone; a
-- duplicate delivery waits on the uncommitted key and then sees it taken.
CREATE TABLE email_deliveries (
  idempotency_key text PRIMARY KEY,
  recipient text NOT NULL,
  subject text NOT NULL,
  smtp_message_id text,
  smtp_response text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_deliveries_created_at_idx ON email_deliveries (created_at);

-- Down Migration
DROP TABLE email_deliveries;
DROP TABLE notification_batches;
DROP TABLE job_runs;
DROP TABLE outbox;
