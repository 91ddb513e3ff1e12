// Who is connected anywhere: a Redis sorted set per user (`<prefix>presence:<user id>`) whose
// members are the API instances holding a WebSocket of that user, scored by when that claim
// expires. Each instance refreshes its claims well before they expire and removes them when the
// user's last local socket closes; a crashed instance's claims simply run out. The worker asks
// before e-mailing: a user with an unexpired claim on any instance gets no notification.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export const PRESENCE_TTL_MS = 60_000;

const presenceKey = (prefix: string, userId: string) => `${prefix}presence:${userId}`;

export class PresenceTracker {
  /** Local sockets per user on this instance. */
  private readonly local = new Map<string, number>();
  private readonly member: string;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; instance: string; logger: Logger; ttlMs?: number },
  ) {
    // The instance name alone could repeat (two processes on one host); the suffix cannot.
    this.member = `${options.instance}:${randomUUID().slice(0, 8)}`;
    this.timer = setInterval(() => void this.refreshAll(), this.ttlMs / 3);
    this.timer.unref();
  }

  private get ttlMs(): number {
    return this.options.ttlMs ?? PRESENCE_TTL_MS;
  }

  connected(userId: string): void {
    const count = this.local.get(userId) ?? 0;
    this.local.set(userId, count + 1);
    if (count === 0) void this.claim([userId]);
  }

  disconnected(userId: string): void {
    const count = (this.local.get(userId) ?? 1) - 1;
    if (count > 0) {
      this.local.set(userId, count);
      return;
    }
    this.local.delete(userId);
    this.redis.zrem(presenceKey(this.options.prefix, userId), this.member).catch(() => undefined);
  }

  /** Drops every claim of this instance (graceful shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const users = [...this.local.keys()];
    this.local.clear();
    if (users.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const userId of users) pipeline.zrem(presenceKey(this.options.prefix, userId), this.member);
    await pipeline.exec().catch(() => undefined);
  }

  private async refreshAll(): Promise<void> {
    const users = [...this.local.keys()];
    for (let i = 0; i < users.length; i += 1000) await this.claim(users.slice(i, i + 1000));
  }

  private async claim(userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) {
      const key = presenceKey(this.options.prefix, userId);
      pipeline.zadd(key, now + this.ttlMs, this.member);
      pipeline.zremrangebyscore(key, "-inf", now); // claims of instances that died
      pipeline.pexpire(key, this.ttlMs * 2);
    }
    try {
      await pipeline.exec();
    } catch (error) {
      // Redis is down: the next refresh (ttl/3 later) claims again.
      this.options.logger.warn({ err: (error as Error).message }, "presence update failed");
    }
  }
}

/** The users among `userIds` connected to some instance right now. Throws when Redis fails. */
export async function connectedUsers(redis: Redis, prefix: string, userIds: string[]): Promise<Set<string>> {
  const online = new Set<string>();
  if (userIds.length === 0) return online;
  const now = Date.now();
  const pipeline = redis.pipeline();
  for (const userId of userIds) pipeline.zcount(presenceKey(prefix, userId), `(${now}`, "+inf");
  const results = (await pipeline.exec()) ?? [];
  results.forEach(([error, count], i) => {
    if (error) throw error;
    if (Number(count) > 0) online.add(userIds[i]!);
  });
  return online;
}
