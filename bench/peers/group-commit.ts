// Group commit for the durable floor peer: one INSERT in flight; every message that arrives
// meanwhile goes into the next one, so a commit (an fsync) is shared by all of them. Messages are
// written, and their promises settled, in arrival order, so a room's order is kept.
import type pg from "pg";

export interface Stored {
  id: string;
  createdAt: string;
}

interface Pending {
  room: string;
  sender: string;
  body: string;
  resolve(stored: Stored): void;
  reject(error: Error): void;
}

// Ids come from the sequence in the order unnest yields the rows, i.e. arrival order.
const INSERT = `INSERT INTO messages (room, sender, body)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
RETURNING id, created_at`;

export class GroupCommit {
  private queue: Pending[] = [];
  private writing = false;

  constructor(private readonly pool: pg.Pool) {}

  add(room: string, sender: string, body: string): Promise<Stored> {
    return new Promise<Stored>((resolve, reject) => {
      this.queue.push({ room, sender, body, resolve, reject });
      // The sends of one tick share a statement.
      if (this.queue.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    if (this.writing || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.writing = true;
    this.pool
      .query<{ id: string; created_at: Date }>({
        name: "floor_insert",
        text: INSERT,
        values: [batch.map((p) => p.room), batch.map((p) => p.sender), batch.map((p) => p.body)],
      })
      .then(
        ({ rows }) => {
          this.next();
          const inOrder = rows.sort((a, b) => Number(a.id) - Number(b.id));
          batch.forEach((p, i) =>
            p.resolve({ id: inOrder[i]!.id, createdAt: inOrder[i]!.created_at.toISOString() }),
          );
        },
        (error: Error) => {
          this.next();
          for (const p of batch) p.reject(error);
        },
      );
  }

  /** The next statement goes out before this batch's senders are answered. */
  private next(): void {
    this.writing = false;
    this.flush();
  }
}
