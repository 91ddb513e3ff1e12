// What both Redis fan-outs keep while a publish cannot reach Redis, and the round-trip probes
// their readiness checks wait for.

/** Kicks kept while the publisher is down; past this the oldest are dropped (the receivers'
 * membership re-check after their own reconnect, and token expiry, still end those cursors). */
const MAX_KEPT = 10_000;

/**
 * Payloads not yet published: every `keep` payload (kicks), in order, and the newest message of
 * each room (it tells receivers what they missed; their gap detection reads the rest).
 */
export class UnpublishedBacklog {
  private readonly newest = new Map<string, Buffer>();
  private readonly kept: Array<{ roomId: string; payload: Buffer }> = [];

  add(roomId: string, payload: Buffer, keep: boolean): void {
    if (keep) {
      this.kept.push({ roomId, payload });
      if (this.kept.length > MAX_KEPT) this.kept.shift();
    } else this.newest.set(roomId, payload);
  }

  get size(): number {
    return this.newest.size + this.kept.length;
  }

  /** Empties the backlog into `publish`: kicks first, then each room's newest message. */
  drain(publish: (roomId: string, payload: Buffer, keep: boolean) => void): void {
    const kept = this.kept.splice(0);
    for (const { roomId, payload } of kept) publish(roomId, payload, true);
    const pending = [...this.newest];
    this.newest.clear();
    for (const [roomId, payload] of pending) publish(roomId, payload, false);
  }
}

/** Probe tokens on their way through Redis, each resolved when its message comes back. */
export class ProbeWaiters {
  private readonly waiting = new Map<string, () => void>();

  /** Resolves when `arrived(token)` is called; rejects after `timeoutMs` with `timeoutMessage`. */
  wait(token: string, timeoutMs: number, timeoutMessage: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        reject(new Error(timeoutMessage));
      }, timeoutMs);
      this.waiting.set(token, () => {
        clearTimeout(timer);
        this.waiting.delete(token);
        resolve();
      });
    });
  }

  arrived(token: string): void {
    this.waiting.get(token)?.();
  }
}
