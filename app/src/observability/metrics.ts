// Prometheus metrics (prom-client). HTTP metrics are labelled with route templates, never raw
// paths, so label cardinality stays bounded.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests by method, route template and status",
    labelNames: ["method", "endpoint", "status"] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds by method and route template",
    labelNames: ["method", "endpoint"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly wsConnections = new Gauge({
    name: "chatapi_websocket_connections",
    help: "Open WebSocket connections on this instance",
    registers: [this.registry],
  });

  readonly messagesSent = new Counter({
    name: "chatapi_messages_sent_total",
    help: "Messages persisted by this instance (REST and WebSocket sends)",
    registers: [this.registry],
  });

  readonly messagesDelivered = new Counter({
    name: "chatapi_messages_delivered_total",
    help: "Message frames written to WebSocket subscribers on this instance (live and replayed)",
    registers: [this.registry],
  });

  readonly slowConsumersDropped = new Counter({
    name: "chatapi_websocket_slow_consumers_dropped_total",
    help: "WebSocket connections terminated because their send buffer grew past WS_MAX_BUFFERED_BYTES",
    registers: [this.registry],
  });

  readonly wsRateLimited = new Counter({
    name: "chatapi_websocket_rate_limited_total",
    help: "WebSocket connections closed with 4008 for sending too fast",
    registers: [this.registry],
  });

  readonly fanoutRooms = new Gauge({
    name: "chatapi_fanout_rooms",
    help: "Rooms this instance follows on the fan-out (a stream and a Redis channel each); should fall back as subscribers leave",
    registers: [this.registry],
  });

  readonly catchUpQueries = new Counter({
    name: "chatapi_fanout_catch_up_queries_total",
    help: "Database reads done to fill gaps in the live stream (after Redis loss or reordering)",
    registers: [this.registry],
  });

  readonly publishFailures = new Counter({
    name: "chatapi_fanout_publish_failures_total",
    help: "Redis publishes that failed (subscribers elsewhere catch up from PostgreSQL)",
    registers: [this.registry],
  });

  readonly subscriptionUp = new Gauge({
    name: "chatapi_fanout_subscription_up",
    help: "1 while this instance's Redis subscription delivers room messages, 0 while it is lost",
    registers: [this.registry],
  });

  readonly messageWriteBatch = new Histogram({
    name: "chatapi_message_write_batch_size",
    help: "Sends committed together by one statement of the message writer (group commit)",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  readonly messageWriteDuration = new Histogram({
    name: "chatapi_message_write_seconds",
    help: "Time of one message-writer statement, commit included (what every send in it waited)",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
