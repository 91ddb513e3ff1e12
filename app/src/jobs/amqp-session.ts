// One AMQP connection at a time for the worker, reopened with backoff whenever it or one of its
// channels closes (a broker restart, a network cut, a channel error).
import amqp, { type Channel, type ChannelModel } from "amqplib";
import type { Logger } from "../observability/logger.js";

export interface SessionHooks {
  onOpen(
    connection: ChannelModel,
  ): Promise<{ channels: Array<{ close(): Promise<void> }>; statsChannel: Channel }>;
  onClose(): void;
}

/**
 * One AMQP connection at a time, reopened with exponential backoff (0.5 s … 10 s) whenever it
 * or one of its channels closes. The consumer and relay are re-attached to the new channels.
 */
export class AmqpSession {
  private connection: ChannelModel | undefined;
  private reconnect = true;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
  statsChannel: Channel | undefined;

  constructor(
    private readonly url: string,
    private readonly instance: string,
    private readonly logger: Logger,
    private readonly hooks: SessionHooks,
  ) {}

  start(): void {
    void this.open();
  }

  stopReconnecting(): void {
    this.reconnect = false;
    clearTimeout(this.timer);
  }

  async close(): Promise<void> {
    this.stopReconnecting();
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }

  private async open(): Promise<void> {
    let connection: ChannelModel | undefined;
    try {
      connection = await amqp.connect(this.url, {
        timeout: 10_000,
        clientProperties: { connection_name: `chatapi-worker-${this.instance}` },
      });
      let closed = false;
      const onLost = (reason: string) => {
        if (closed) return;
        closed = true;
        this.statsChannel = undefined;
        this.hooks.onClose();
        if (this.connection === connection) this.connection = undefined;
        connection!.close().catch(() => undefined);
        if (this.reconnect) {
          this.lastError = reason;
          this.logger.warn({ reason }, "RabbitMQ connection lost; reconnecting");
          this.schedule();
        }
      };
      connection.on("error", (error: Error) => (this.lastError = error.message));
      connection.on("close", () => onLost(this.lastError ?? "connection closed"));
      connection.on("blocked", (reason: string) =>
        this.logger.warn({ reason }, "RabbitMQ blocked publishing"),
      );
      this.connection = connection;
      const { channels, statsChannel } = await this.hooks.onOpen(connection);
      for (const channel of channels) {
        const emitter = channel as unknown as NodeJS.EventEmitter;
        emitter.on("error", (error: Error) => (this.lastError = error.message));
        emitter.on("close", () => onLost(`a channel closed (${this.lastError ?? "no reason given"})`));
      }
      this.statsChannel = statsChannel;
      if (!this.reconnect) return void (await connection.close().catch(() => undefined));
      this.attempt = 0;
      this.lastError = undefined;
      this.logger.info("connected to RabbitMQ; consuming jobs and relaying the outbox");
    } catch (error) {
      this.lastError = (error as Error).message;
      this.logger.warn({ err: this.lastError }, "cannot connect to RabbitMQ; retrying");
      this.hooks.onClose();
      await connection?.close().catch(() => undefined);
      if (this.connection === connection) this.connection = undefined;
      this.schedule();
    }
  }

  private schedule(): void {
    if (!this.reconnect) return;
    const delay = Math.min(10_000, 500 * 2 ** this.attempt++);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.open(), delay);
  }
}
