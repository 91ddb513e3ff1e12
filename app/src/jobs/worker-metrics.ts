// Prometheus metrics of `chatapi worker` (served on METRICS_PORT). Queue depths and the outbox
// backlog are read when scraped, so they are current without a polling loop.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface QueueDepths {
  /** Messages waiting in each queue (ready, not yet delivered). */
  queues(): Promise<Record<string, number>>;
  /** Outbox rows not yet relayed, and the age of the oldest one in seconds. */
  outbox(): Promise<{ pending: number; oldestAgeSeconds: number }>;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private depths: QueueDepths | undefined;

  readonly jobsDone = new Counter({
    name: "chatapi_jobs_done_total",
    help: "Jobs finished, by type and outcome (done, duplicate: already done before, skipped: nothing to do)",
    labelNames: ["type", "outcome"] as const,
    registers: [this.registry],
  });

  readonly jobsFailed = new Counter({
    name: "chatapi_jobs_failed_total",
    help: "Job attempts that failed, by type (each is then retried or dead-lettered)",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });

  readonly jobsRetried = new Counter({
    name: "chatapi_jobs_retried_total",
    help: "Failed jobs scheduled for another attempt after a backoff delay",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });

  readonly jobsDeadLettered = new Counter({
    name: "chatapi_jobs_dead_lettered_total",
    help: "Jobs moved to the dead-letter queue (attempts exhausted or a permanent error)",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: "chatapi_job_duration_seconds",
    help: "Time to run one job attempt",
    labelNames: ["type"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly jobLag = new Histogram({
    name: "chatapi_job_lag_seconds",
    help: "Time from a job's creation (its outbox row; including planned delays) to the start of its attempt",
    labelNames: ["type"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });

  readonly jobsInFlight = new Gauge({
    name: "chatapi_jobs_in_flight",
    help: "Jobs this worker is running now",
    registers: [this.registry],
  });

  readonly emailsSent = new Counter({
    name: "chatapi_emails_sent_total",
    help: "E-mails accepted by the SMTP server",
    registers: [this.registry],
  });

  readonly outboxPublished = new Counter({
    name: "chatapi_outbox_published_total",
    help: "Outbox rows this worker relayed to RabbitMQ (confirmed by the broker)",
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const source = () => this.depths;
    new Gauge({
      name: "chatapi_queue_messages",
      help: "Messages waiting in a RabbitMQ queue of the job system (read at scrape time)",
      labelNames: ["queue"] as const,
      registers: [this.registry],
      async collect() {
        const depths = await bounded(source()?.queues());
        if (depths) for (const [queue, count] of Object.entries(depths)) this.set({ queue }, count);
      },
    });
    new Gauge({
      name: "chatapi_outbox_pending",
      help: "Outbox rows waiting to be relayed to RabbitMQ (read at scrape time)",
      registers: [this.registry],
      async collect() {
        const outbox = await bounded(source()?.outbox());
        if (outbox) this.set(outbox.pending);
      },
    });
    new Gauge({
      name: "chatapi_outbox_oldest_age_seconds",
      help: "Age of the oldest outbox row: the relay's lag (0 when the outbox is empty)",
      registers: [this.registry],
      async collect() {
        const outbox = await bounded(source()?.outbox());
        if (outbox) this.set(outbox.oldestAgeSeconds);
      },
    });
  }

  /** Failure counters start at 0 for every job type: rate() then sees the first failure, and the
   *  dashboard and alerts find the series before anything failed. */
  initJobTypes(types: string[]): void {
    for (const type of types) {
      for (const counter of [this.jobsFailed, this.jobsRetried, this.jobsDeadLettered])
        counter.inc({ type }, 0);
    }
  }

  setDepthSource(depths: QueueDepths): void {
    this.depths = depths;
  }
}

/** A scrape must not hang on a broker or database that is down: give up after 2 s. */
async function bounded<T>(work: Promise<T> | undefined): Promise<T | undefined> {
  if (!work) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), 2000);
  });
  try {
    return await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
