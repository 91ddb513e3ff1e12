// A loopback TCP proxy that can hold traffic: while holding, bytes in either direction are kept
// (not forwarded) until released. A test uses it to catch a worker in the middle of its SMTP
// conversation (a new connection waits for the greeting, a pooled one for its reply). Holding
// only the replies, then cutting, is a connection lost after the server did the work (a reset
// after COMMIT).
import { createServer, connect, type Server, type Socket } from "node:net";

export class HoldingProxy {
  private holding = false;
  private holdingReplies = false;
  /** Replies of connections that sent this (e.g. a prepared statement's name) are held. */
  private replyMarker: Buffer | undefined;
  private readonly marked = new Set<Socket>();
  private readonly held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<HoldingProxy> {
    const self: { proxy?: HoldingProxy } = {};
    const server = createServer((client) => {
      const proxy = self.proxy;
      const upstream = connect({ host: targetHost, port: targetPort });
      for (const socket of [client, upstream]) {
        proxy!.sockets.add(socket);
        socket.on("close", () => {
          proxy!.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
        socket.on("error", () => socket.destroy());
      }
      const relay = (from: Socket, to: Socket) =>
        from.on("data", (chunk: Buffer) => {
          const send = () => {
            if (!to.destroyed) to.write(chunk);
          };
          if (from === client && proxy!.replyMarker && chunk.includes(proxy!.replyMarker))
            proxy!.marked.add(upstream);
          const reply = from === upstream && (proxy!.holdingReplies || proxy!.marked.has(upstream));
          if (proxy!.holding || reply) proxy!.held.push(send);
          else send();
        });
      relay(client, upstream);
      relay(upstream, client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self.proxy = new HoldingProxy(server, (server.address() as { port: number }).port);
    return self.proxy;
  }

  /** Chunks waiting to be forwarded: more than 0 means somebody is stuck mid-conversation. */
  get heldCount(): number {
    return this.held.length;
  }

  hold(): void {
    this.holding = true;
  }

  /** Forwards requests but keeps the server's replies. */
  holdReplies(): void {
    this.holdingReplies = true;
  }

  /** Holds the replies of every connection once it sent `marker` (the request still goes through). */
  holdRepliesAfter(marker: string): void {
    this.replyMarker = Buffer.from(marker);
  }

  /** Drops what is held and resets the connections holding it (every one, unless only marked ones hold). */
  cut(): void {
    const onlyMarked = !this.holding && !this.holdingReplies;
    this.holding = false;
    this.holdingReplies = false;
    this.replyMarker = undefined;
    this.held.splice(0);
    for (const socket of onlyMarked ? this.marked : this.sockets) socket.destroy();
    this.marked.clear();
  }

  release(): void {
    this.holding = false;
    for (const send of this.held.splice(0)) send();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
