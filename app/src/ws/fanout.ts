// How room messages travel between API instances. The hub only needs this interface; the
// production implementation is Redis pub/sub (infra/redis-fanout.ts), tests may use memory.

export interface FanoutHandlers {
  /** A payload published for a room by any instance (this one included). */
  onMessage(roomId: string, payload: Buffer): void;
  /**
   * The subscription stopped delivering (its connection closed): messages and kicks published
   * from now until the next onResync may be lost.
   */
  onInterrupted(): void;
  /** The transport lost messages (e.g. Redis reconnected): the hub must re-read from PostgreSQL. */
  onResync(): void;
}

export interface PublishOptions {
  /** Never replaced by a later payload of the room while waiting to be published. */
  keep?: boolean;
}

export interface Fanout {
  setHandlers(handlers: FanoutHandlers): void;
  /** Starts receiving a room; resolves once active (or at once when the transport is down:
   * the room is then subscribed on reconnect, followed by onResync). */
  subscribe(roomId: string): Promise<void>;
  unsubscribe(roomId: string): Promise<void>;
  /**
   * Fire and forget; a lost message is repaired by the receivers' gap detection. While the
   * transport is down only a room's newest message is kept for later (it reveals the gap);
   * `keep` payloads (kicks) are each kept, since no later payload stands in for them.
   */
  publish(roomId: string, payload: Buffer, options?: PublishOptions): void;
  /** Throws unless this instance's subscription delivers messages right now. */
  check(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** In-process fan-out for a single instance and for unit tests. */
export class MemoryFanout implements Fanout {
  private handlers: FanoutHandlers | undefined;
  private readonly rooms = new Set<string>();
  readonly published: Array<{ roomId: string; payload: Buffer }> = [];

  setHandlers(handlers: FanoutHandlers): void {
    this.handlers = handlers;
  }
  async subscribe(roomId: string): Promise<void> {
    this.rooms.add(roomId);
  }
  async unsubscribe(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
  }
  publish(roomId: string, payload: Buffer): void {
    this.published.push({ roomId, payload });
    if (this.rooms.has(roomId)) queueMicrotask(() => this.handlers?.onMessage(roomId, payload));
  }
  isSubscribed(roomId: string): boolean {
    return this.rooms.has(roomId);
  }
  /** Simulates a transport reconnect. */
  resync(): void {
    this.handlers?.onResync();
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}
