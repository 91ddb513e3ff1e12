// The outbox relay: moves committed outbox rows to RabbitMQ. Each round locks a batch of rows
// (FOR UPDATE SKIP LOCKED, so several workers relay disjoint batches), publishes them on a
// confirm channel, waits until the broker has confirmed every one, and only then deletes them
// in the same transaction. A broker that is down, a publish the broker returns as unroutable,
// or a missing confirm rolls the transaction back and the rows are tried again: nothing is lost,
// and the rare duplicate (confirmed, then the commit failed) is absorbed by the consumers'
// idempotency.
import type { ConfirmChannel, Message } from "amqplib";
import type pg from "pg";
import type { Logger } from "pino";
import { encodeJob } from "./job.js";
import { JOB_EXCHANGE, JOB_ROUTING_KEY, declareDelayQueue, delayQueueName } from "./topology.js";

interface OutboxRow {
  id: number;
  job_id: string;
  type: string;
  payload: unknown;
  delay_ms: number;
  created_at: Date;
}

export interface RelayOptions {
  pool: pg.Pool;
  logger: Logger;
  pollIntervalMs: number;
  batchSize?: number;
  confirmTimeoutMs?: number;
  onPublished?: (count: number) => void;
}

export class OutboxRelay {
  private channel: ConfirmChannel | undefined;
  private readonly declaredDelays = new Set<number>();
  private readonly returned = new Set<string>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: RelayOptions) {}

  /** Starts relaying on a fresh confirm channel (after every (re)connect). */
  attach(channel: ConfirmChannel): void {
    this.channel = channel;
    this.declaredDelays.clear();
    channel.on("return", (message: Message) => {
      if (message.properties.messageId) this.returned.add(message.properties.messageId as string);
    });
    this.ensureLoop();
  }

  private ensureLoop(): void {
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      // Re-attached while the old loop was winding down: keep relaying on the new channel.
      if (this.channel && !this.stopped) this.ensureLoop();
    });
  }

  detach(): void {
    this.channel = undefined;
    this.wake?.();
  }

  /** Stops after the current round (its transaction commits or rolls back first). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.channel = undefined;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    let failures = 0;
    while (!this.stopped && this.channel) {
      let relayed = 0;
      try {
        relayed = await this.relayOnce(this.channel, batchSize);
        failures = 0;
      } catch (error) {
        failures++;
        this.options.logger.warn(
          { err: (error as Error).message },
          "outbox relay round failed; the rows stay and are tried again",
        );
      }
      // A full batch means more is waiting: go again at once. Otherwise poll (backing off on errors).
      if (relayed < batchSize || failures > 0) {
        await this.sleep(failures > 0 ? Math.min(5000, 250 * 2 ** failures) : this.options.pollIntervalMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One round; returns how many rows were published and deleted. */
  async relayOnce(channel: ConfirmChannel, batchSize: number): Promise<number> {
    const db = await this.options.pool.connect();
    let open = false;
    let broken: Error | undefined;
    try {
      await db.query("BEGIN");
      open = true;
      const { rows } = await db.query<OutboxRow>({
        name: "outbox_claim",
        text: `SELECT id, job_id, type, payload, delay_ms, created_at FROM outbox
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        values: [batchSize],
      });
      if (rows.length === 0) {
        await db.query("COMMIT");
        open = false;
        return 0;
      }
      for (const row of rows) {
        if (row.delay_ms > 0 && !this.declaredDelays.has(row.delay_ms)) {
          await declareDelayQueue(channel, row.delay_ms);
          this.declaredDelays.add(row.delay_ms);
        }
      }
      for (const row of rows) {
        this.returned.delete(row.job_id);
        const { content, options } = encodeJob({
          id: row.job_id,
          type: row.type,
          payload: row.payload,
          createdAt: row.created_at.getTime(),
          attempt: 1,
        });
        // mandatory: a job that no queue would take comes back instead of vanishing.
        const publishOptions = { ...options, mandatory: true };
        if (row.delay_ms > 0) {
          channel.publish("", delayQueueName(row.delay_ms), content, publishOptions);
        } else {
          channel.publish(JOB_EXCHANGE, JOB_ROUTING_KEY, content, publishOptions);
        }
      }
      await withTimeout(
        channel.waitForConfirms(),
        this.options.confirmTimeoutMs ?? 30_000,
        "RabbitMQ did not confirm the publishes",
      );
      const unroutable = rows.filter((row) => this.returned.has(row.job_id));
      if (unroutable.length > 0) {
        throw new Error(`${unroutable.length} job(s) were unroutable (is the topology declared?)`);
      }
      await db.query({
        name: "outbox_delete",
        text: "DELETE FROM outbox WHERE id = ANY($1::bigint[])",
        values: [rows.map((row) => row.id)],
      });
      await db.query("COMMIT");
      open = false;
      this.options.onPublished?.(rows.length);
      return rows.length;
    } finally {
      if (open) {
        await db.query("ROLLBACK").catch((error: Error) => {
          broken = error; // the connection is unusable: the pool must not hand it out again
        });
      }
      db.release(broken);
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
