// Consumes the job queue with manual acks. Prefetch bounds the deliveries held by this worker,
// concurrency bounds the jobs running at once (the rest wait here, in delivery order).
//
// A job that fails is acked only after its next attempt is safely queued: a copy with the next
// attempt number goes to the delay queue of its backoff (confirmed by the broker), or, after
// the last attempt or for a permanent error, to the dead-letter exchange. A worker that dies
// instead leaves the delivery unacked and RabbitMQ hands it to another worker.
import type { ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import type { Logger } from "pino";
import { ATTEMPT_HEADER, ERROR_HEADER, PermanentJobError, decodeJob, encodeJob, type Job } from "./job.js";
import { DEAD_EXCHANGE, JOB_QUEUE, declareDelayQueue, delayQueueName } from "./topology.js";
import type { WorkerMetrics } from "./worker-metrics.js";

/** What a finished job did, for metrics and logs. */
export type JobOutcome = "done" | "duplicate" | "skipped";
export type JobHandler = (job: Job) => Promise<JobOutcome>;

export interface ConsumerOptions {
  handlers: Record<string, JobHandler>;
  logger: Logger;
  metrics: WorkerMetrics;
  concurrency: number;
  prefetch: number;
  maxAttempts: number;
  retryBaseMs: number;
}

interface Delivery {
  channel: ConfirmChannel;
  message: ConsumeMessage;
}

/** Backoff before attempt n + 1: base × 4^(n-1), at most an hour (10 s, 40 s, 160 s, 640 s, …). */
export function retryDelayMs(baseMs: number, attempt: number): number {
  return Math.round(Math.min(3_600_000, baseMs * 4 ** (attempt - 1)));
}

export class JobConsumer {
  private channel: ConfirmChannel | undefined;
  private consumerTag: string | undefined;
  private readonly waiting: Delivery[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly delaysDeclared = new Set<number>();
  private stopping = false;

  constructor(private readonly options: ConsumerOptions) {}

  get active(): number {
    return this.running.size;
  }

  /** True while a consumer is registered on a live channel (readiness). */
  get consuming(): boolean {
    return this.channel !== undefined && this.consumerTag !== undefined;
  }

  async attach(channel: ConfirmChannel): Promise<void> {
    this.channel = channel;
    this.delaysDeclared.clear();
    await channel.prefetch(this.options.prefetch);
    const { consumerTag } = await channel.consume(JOB_QUEUE, (message) => {
      if (message) this.receive({ channel, message });
    });
    this.consumerTag = consumerTag;
  }

  /** The channel is gone: its deliveries are back in the queue already (never acked). */
  detach(): void {
    this.channel = undefined;
    this.consumerTag = undefined;
    this.waiting.length = 0;
  }

  /**
   * Graceful stop: no new deliveries, waiting ones go back to the queue at once, running ones
   * get `timeoutMs` to finish; whatever still runs then is returned to the queue.
   */
  async stop(timeoutMs: number): Promise<{ finished: number; returned: number }> {
    this.stopping = true;
    const channel = this.channel;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined);
    this.consumerTag = undefined;
    let returned = 0;
    for (const delivery of this.waiting.splice(0)) {
      if (this.nack(delivery)) returned++;
    }
    const running = this.running.size;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([Promise.allSettled([...this.running]).then(() => false), timedOut]);
    clearTimeout(timer);
    // Closing the channel returns the unacked deliveries of jobs still running.
    if (late) returned += this.running.size;
    return { finished: running - (late ? this.running.size : 0), returned };
  }

  private receive(delivery: Delivery): void {
    if (this.stopping) {
      this.nack(delivery);
      return;
    }
    this.waiting.push(delivery);
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.options.concurrency && this.waiting.length > 0 && !this.stopping) {
      const delivery = this.waiting.shift()!;
      const run = this.run(delivery).finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async run(delivery: Delivery): Promise<void> {
    const { metrics, logger } = this.options;
    let job: Job;
    try {
      job = decodeJob(delivery.message);
    } catch (error) {
      logger.error({ err: (error as Error).message }, "undecodable message: dead-lettered");
      await this.deadLetter(delivery, undefined, error as Error);
      return;
    }
    const log = logger.child({ job_id: job.id, job_type: job.type, attempt: job.attempt });
    const handler = this.options.handlers[job.type];
    if (!handler) {
      log.error("no handler for this job type: dead-lettered");
      await this.deadLetter(delivery, job, new PermanentJobError(`unknown job type ${job.type}`));
      return;
    }
    metrics.jobLag.observe({ type: job.type }, Math.max(0, (Date.now() - job.createdAt) / 1000));
    metrics.jobsInFlight.inc();
    const endTimer = metrics.jobDuration.startTimer({ type: job.type });
    try {
      const outcome = await handler(job);
      endTimer();
      metrics.jobsDone.inc({ type: job.type, outcome });
      log.debug({ outcome }, "job finished");
      this.ack(delivery);
    } catch (error) {
      endTimer();
      metrics.jobsFailed.inc({ type: job.type });
      await this.retryOrDeadLetter(delivery, job, error as Error, log);
    } finally {
      metrics.jobsInFlight.dec();
    }
  }

  private async retryOrDeadLetter(delivery: Delivery, job: Job, error: Error, log: Logger): Promise<void> {
    const permanent = error instanceof PermanentJobError;
    if (permanent || job.attempt >= this.options.maxAttempts) {
      log.error(
        { err: error.message, permanent },
        permanent ? "job failed permanently: dead-lettered" : "job failed on its last attempt: dead-lettered",
      );
      await this.deadLetter(delivery, job, error);
      return;
    }
    const delayMs = retryDelayMs(this.options.retryBaseMs, job.attempt);
    try {
      const { channel } = delivery;
      if (!this.delaysDeclared.has(delayMs)) {
        await declareDelayQueue(channel, delayMs);
        this.delaysDeclared.add(delayMs);
      }
      const { content, options } = encodeJob({ ...job, attempt: job.attempt + 1 });
      await publishConfirmed(channel, "", delayQueueName(delayMs), content, options);
      this.ack(delivery);
      this.options.metrics.jobsRetried.inc({ type: job.type });
      log.warn({ err: error.message, retry_in_ms: delayMs }, "job failed: retrying later");
    } catch (publishError) {
      // The retry could not be queued: leave the delivery unacked (back to the queue when the
      // channel closes) rather than lose the job.
      log.error(
        { err: (publishError as Error).message },
        "could not schedule a retry; job returned to the queue",
      );
      this.nack(delivery);
    }
  }

  private async deadLetter(delivery: Delivery, job: Job | undefined, error: Error): Promise<void> {
    const { message, channel } = delivery;
    const headers: Record<string, string | number> = {
      [ERROR_HEADER]: error.message.slice(0, 1000),
      [ATTEMPT_HEADER]: job?.attempt ?? 1,
    };
    const options: Options.Publish = {
      ...message.properties,
      persistent: true,
      headers: { ...message.properties.headers, ...headers },
    };
    try {
      await publishConfirmed(channel, DEAD_EXCHANGE, "", message.content, options);
      this.ack(delivery);
      this.options.metrics.jobsDeadLettered.inc({ type: job?.type ?? "unknown" });
    } catch (publishError) {
      this.options.logger.error(
        { err: (publishError as Error).message },
        "could not dead-letter a job; returned to the queue",
      );
      this.nack(delivery);
    }
  }

  private ack(delivery: Delivery): void {
    // A delivery of a channel that closed is already back in the queue: acking it is an error.
    if (delivery.channel !== this.channel) return;
    try {
      delivery.channel.ack(delivery.message);
    } catch {
      // The channel closed meanwhile.
    }
  }

  private nack(delivery: Delivery): boolean {
    if (delivery.channel !== this.channel) return false;
    try {
      delivery.channel.nack(delivery.message, false, true);
      return true;
    } catch {
      return false;
    }
  }
}

function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, content, options, (error: unknown) =>
        error
          ? reject(error instanceof Error ? error : new Error("the broker refused the publish"))
          : resolve(),
      );
    } catch (error) {
      reject(error as Error);
    }
  });
}
