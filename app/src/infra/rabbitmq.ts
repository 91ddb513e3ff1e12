// RabbitMQ reachability for /health/ready: one lazily opened connection, reopened when lost.
// (The API does not consume queues; workers do. Readiness still reports the broker, per API.md.)
import amqp, { type ChannelModel } from "amqplib";

export class RabbitProbe {
  private connection: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;

  constructor(private readonly url: string) {}

  async check(timeoutMs: number): Promise<void> {
    if (this.connection) return;
    this.connecting ??= amqp
      .connect(this.url, { timeout: timeoutMs, clientProperties: { connection_name: "chatapi-api-health" } })
      .finally(() => {
        this.connecting = undefined;
      });
    const connection = await this.connecting;
    if (this.connection !== connection) {
      this.connection = connection;
      connection.on("error", () => undefined);
      connection.on("close", () => {
        if (this.connection === connection) this.connection = undefined;
      });
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }
}
