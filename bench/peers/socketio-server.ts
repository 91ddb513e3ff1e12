// Peer 1: a Socket.IO 4 chat server with @socket.io/redis-adapter, as its documentation sets
// it up. Clients connect over WebSocket only, `join` a room (acknowledged), and `send`
// {room, body}: the server broadcasts {room_id, sender_id, body, created_at} to the room on
// every instance and acknowledges. Nobody is authenticated.
//
// With DATABASE_URL it is the durable peer: each message is INSERTed into PostgreSQL (a pool
// of 10 kept open, the server's synchronous commit) before it is broadcast with its id and
// acknowledged, the way a team adds history to Socket.IO; without it nothing is stored. A room's
// messages are stored and broadcast one after another (concurrent INSERTs commit in any order,
// and the promise includes a room's order: the benchmark caught the reordering under load).
// Env: PORT (0 = any), REDIS_URL, REDIS_PREFIX (the adapter's key), DATABASE_URL (optional;
// the `messages` table must exist). Prints {"port":N} when ready.
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import pg from "pg";
import { Server } from "socket.io";
import { listenWhenOpen } from "./listen";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
// The pool's connections are opened before the port is printed and never closed for being
// idle (pg's default closes them after 10 s): the benchmark times the database backends that
// exist when a step starts, and the idle pause between steps would otherwise leave none.
const POOL_SIZE = 10;
const db = process.env.DATABASE_URL
  ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: POOL_SIZE, idleTimeoutMillis: 0 })
  : undefined;
const http = createServer();
const io = new Server(http, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  adapter: createAdapter(pub, sub, { key: process.env.REDIS_PREFIX ?? "bench-socketio" }),
});

interface SendPayload {
  room?: unknown;
  body?: unknown;
}

interface Stored {
  id?: string;
  created_at: string;
}

/** The durable peer's INSERT (its id and time go out with the message), or just the time. */
async function store(room: string, sender: string, body: string): Promise<Stored> {
  if (!db) return { created_at: new Date().toISOString() };
  const { rows } = await db.query<{ id: string; created_at: Date }>(
    "INSERT INTO messages (room, sender, body) VALUES ($1, $2, $3) RETURNING id, created_at",
    [room, sender, body],
  );
  return { id: rows[0]!.id, created_at: rows[0]!.created_at.toISOString() };
}

/** The last queued step of each room: the next one starts when it has finished. */
const roomTails = new Map<string, Promise<void>>();

function inRoomOrder(room: string, step: () => Promise<void>): void {
  if (!db) {
    void step(); // nothing awaited: already in order
    return;
  }
  const tail = (roomTails.get(room) ?? Promise.resolve()).then(step);
  roomTails.set(room, tail);
  void tail.finally(() => {
    if (roomTails.get(room) === tail) roomTails.delete(room);
  });
}

io.on("connection", (socket) => {
  const user = String(socket.handshake.query.user ?? "anonymous");
  socket.on("join", (room: unknown, ack?: () => void) => {
    if (typeof room === "string") void socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("send", (payload: SendPayload, ack?: (reply: unknown) => void) => {
    const reply = typeof ack === "function" ? ack : () => undefined;
    const { room, body } = payload ?? {};
    if (typeof room !== "string" || typeof body !== "string") {
      reply({ error: "room and body are required" });
      return;
    }
    inRoomOrder(room, () =>
      store(room, user, body).then(
        (stored) => {
          io.to(room).emit("message", { ...stored, room_id: room, sender_id: user, body });
          reply({ ok: true, ...(stored.id ? { id: stored.id } : {}) });
        },
        (error: Error) => reply({ error: `not stored: ${error.message}` }),
      ),
    );
  });
});

async function openPool(): Promise<void> {
  if (!db) return;
  const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => db.connect()));
  for (const client of clients) client.release();
}

listenWhenOpen(http, openPool(), "the PostgreSQL pool");

process.on("SIGTERM", () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  void db?.end();
  process.exit(0);
});
