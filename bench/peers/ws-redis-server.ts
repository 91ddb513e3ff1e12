// Peer 2: the plainest fast design, raw `ws` + Redis pub/sub. A room's members on this instance
// get a message directly; other instances get it through the room's Redis channel (subscribed
// only while the room has local members), tagged with the origin so it is not delivered twice.
// The outgoing frame is serialised once and the same string goes to every member. Nobody is
// authenticated, slow consumers are not policed.
//
// Without DATABASE_URL nothing is persisted. With it, it is the durable floor: the cheapest way
// to commit every message before it is delivered and acknowledged that this benchmark knows.
// Messages are INSERTed into the durable Socket.IO peer's table by group commit: one statement
// in flight per instance, taking everything queued meanwhile (one commit for all of them), the
// technique ChatAPI's writer uses, without anything else ChatAPI's statement does (room seq,
// membership, idempotency, outbox, foreign keys). Its latency and database CPU are what
// committing alone costs on the machine; ChatAPI's figures beside it show what its checks add.
// (Its fan-out is the plain peer's ws.send per member, slower than ChatAPI's at high rates.)
// Env: PORT (0 = any), REDIS_URL, REDIS_PREFIX, DATABASE_URL (optional; the `messages` table
// must exist). Prints {"port":N} when ready.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { Redis } from "ioredis";
import pg from "pg";
import { WebSocketServer, type WebSocket } from "ws";
import { GroupCommit } from "./group-commit";
import { listenWhenOpen } from "./listen";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `${process.env.REDIS_PREFIX ?? "bench-ws"}:room:`;
const origin = randomBytes(6).toString("hex");
const pub = new Redis(redisUrl, { enableAutoPipelining: true });
const sub = pub.duplicate();
const rooms = new Map<string, Set<WebSocket>>();
// One connection, opened before the port is printed and never closed for being idle: the
// benchmark times the database backends that exist when a step starts.
const db = process.env.DATABASE_URL
  ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1, idleTimeoutMillis: 0 })
  : undefined;
const writer = db ? new GroupCommit(db) : undefined;

function deliver(room: string, frame: string): void {
  for (const member of rooms.get(room) ?? []) member.send(frame);
}

sub.on("message", (channel: string, payload: string) => {
  if (payload.startsWith(origin)) return;
  deliver(channel.slice(prefix.length), payload.slice(payload.indexOf(" ") + 1));
});

function join(ws: WebSocket, joined: Set<string>, room: string): void {
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
    void sub.subscribe(prefix + room);
  }
  members.add(ws);
  joined.add(room);
}

function leave(ws: WebSocket, room: string): void {
  const members = rooms.get(room);
  if (!members) return;
  members.delete(ws);
  if (members.size === 0) {
    rooms.delete(room);
    void sub.unsubscribe(prefix + room);
  }
}

interface OutgoingMessage {
  type: "message";
  id?: string;
  room_id: string;
  sender_id: string;
  body: string;
  created_at: string;
}

/** Delivers a message here and to the other instances, then acknowledges it to its sender. */
function publish(sender: WebSocket, ref: string, message: OutgoingMessage): void {
  const out = JSON.stringify(message);
  deliver(message.room_id, out);
  void pub.publish(prefix + message.room_id, `${origin} ${out}`);
  sender.send(`{"type":"ack","ref":${ref}}`);
}

interface ClientFrame {
  type?: unknown;
  room?: unknown;
  body?: unknown;
  ref?: unknown;
}

const http = createServer();
const wss = new WebSocketServer({
  server: http,
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 64 * 1024,
});
wss.on("connection", (ws, req) => {
  const user = new URL(req.url ?? "/", "http://localhost").searchParams.get("user") ?? "anonymous";
  const joined = new Set<string>();
  ws.on("message", (data: Buffer) => {
    let frame: ClientFrame;
    try {
      frame = JSON.parse(data.toString()) as ClientFrame;
    } catch {
      ws.send('{"type":"error","message":"invalid JSON"}');
      return;
    }
    if (typeof frame.room !== "string") {
      ws.send(`{"type":"error","message":"room is required","ref":${JSON.stringify(frame.ref ?? null)}}`);
      return;
    }
    if (frame.type === "join") {
      join(ws, joined, frame.room);
      ws.send(`{"type":"joined","room":${JSON.stringify(frame.room)}}`);
    } else if (frame.type === "send" && typeof frame.body === "string") {
      const { room, body } = frame;
      const ref = JSON.stringify(frame.ref ?? null);
      if (!writer) {
        publish(ws, ref, {
          type: "message",
          room_id: room,
          sender_id: user,
          body,
          created_at: new Date().toISOString(),
        });
        return;
      }
      writer.add(room, user, body).then(
        (stored) =>
          publish(ws, ref, {
            type: "message",
            id: stored.id,
            room_id: room,
            sender_id: user,
            body,
            created_at: stored.createdAt,
          }),
        (error: Error) =>
          ws.send(
            `{"type":"error","message":${JSON.stringify(`not stored: ${error.message}`)},"ref":${ref}}`,
          ),
      );
    }
  });
  ws.on("close", () => {
    for (const room of joined) leave(ws, room);
  });
  ws.on("error", () => ws.terminate());
  ws.send('{"type":"ready"}');
});

const opened = db ? db.connect().then((client) => client.release()) : Promise.resolve();
listenWhenOpen(http, opened, "the PostgreSQL connection");

process.on("SIGTERM", () => {
  pub.disconnect();
  sub.disconnect();
  void db?.end();
  process.exit(0);
});
