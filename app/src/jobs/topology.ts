// RabbitMQ objects of the job system. Everything is durable and messages are persistent, so
// jobs survive a broker restart.
//
//   chatapi.jobs (direct exchange) ──"job"──► chatapi.jobs (quorum queue) ──► workers
//   chatapi.jobs.delay.<ms>ms (queues with x-message-ttl = ms, no consumers) ──expire──► chatapi.jobs
//   chatapi.jobs.dead (fanout exchange) ──► chatapi.jobs.dead (queue, kept for an operator)
//
// Delays (digest windows and retry backoff) use one queue per delay value: a queue whose
// messages all share one TTL expires them in order, which per-message TTLs in a shared queue
// would not. Every queue is a quorum queue with at-least-once dead-lettering (RabbitMQ 3.10+):
// a classic queue dead-letters at most once, and a delayed job that expired while the broker
// was down was lost on restart (the target queue was not up yet); a quorum queue keeps it until
// the target has it. The work queue's delivery counter (`x-delivery-limit`) dead-letters a job
// that keeps killing its worker (a crash is a redelivery, not a failure the worker could count);
// failures the worker sees go through the delay queues instead, because a quorum queue
// redelivers a rejected message at once, without backoff.
import type { Channel } from "amqplib";

export const JOB_EXCHANGE = "chatapi.jobs";
export const JOB_ROUTING_KEY = "job";
export const JOB_QUEUE = "chatapi.jobs";
export const DEAD_EXCHANGE = "chatapi.jobs.dead";
export const DEAD_QUEUE = "chatapi.jobs.dead";
/** Redeliveries (crashes, shutdown requeues) after which RabbitMQ dead-letters a job. */
export const DELIVERY_LIMIT = 20;

/** Quorum queue whose dead-lettering is at-least-once (needs reject-publish overflow). */
const QUORUM_SAFE_DEAD_LETTERING = {
  "x-queue-type": "quorum",
  "x-dead-letter-strategy": "at-least-once",
  "x-overflow": "reject-publish",
};

export const delayQueueName = (delayMs: number) => `chatapi.jobs.delay.${delayMs}ms`;

export async function declareTopology(channel: Channel): Promise<void> {
  await channel.assertExchange(JOB_EXCHANGE, "direct", { durable: true });
  await channel.assertExchange(DEAD_EXCHANGE, "fanout", { durable: true });
  await channel.assertQueue(DEAD_QUEUE, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await channel.bindQueue(DEAD_QUEUE, DEAD_EXCHANGE, "");
  await channel.assertQueue(JOB_QUEUE, {
    durable: true,
    arguments: {
      ...QUORUM_SAFE_DEAD_LETTERING,
      "x-delivery-limit": DELIVERY_LIMIT,
      "x-dead-letter-exchange": DEAD_EXCHANGE,
    },
  });
  await channel.bindQueue(JOB_QUEUE, JOB_EXCHANGE, JOB_ROUTING_KEY);
}

/** Declares (idempotently) the delay queue for one delay value; returns its name. */
export async function declareDelayQueue(channel: Channel, delayMs: number): Promise<string> {
  const name = delayQueueName(delayMs);
  await channel.assertQueue(name, {
    durable: true,
    arguments: {
      ...QUORUM_SAFE_DEAD_LETTERING,
      "x-message-ttl": delayMs,
      "x-dead-letter-exchange": JOB_EXCHANGE,
      "x-dead-letter-routing-key": JOB_ROUTING_KEY,
    },
  });
  return name;
}
