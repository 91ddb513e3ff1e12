// Peer 2: the plainest fast design, raw `ws` + Redis pub/sub. A room's members on this instance
// get a message directly; other instances get it through the room's Redis channel (subscribed
// only while the room has local members), tagged with the origin so it is not delivered twice.
// The outgoing frame is serialised once and the same string goes to every member. Nothing is
// persisted, nobody is authenticated, slow consumers are not policed.
// Env: PORT (0 = any), REDIS_URL, REDIS_PREFIX. Prints {"port":N} when ready.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { Redis } from "ioredis";
import { WebSocketServer, type WebSocket } from "ws";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `${process.env.REDIS_PREFIX ?? "bench-ws"}:room:`;
const origin = randomBytes(6).toString("hex");
const pub = new Redis(redisUrl, { enableAutoPipelining: true });
const sub = pub.duplicate();
const rooms = new Map<string, Set<WebSocket>>();

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
      const out = JSON.stringify({
        type: "message",
        room_id: frame.room,
        sender_id: user,
        body: frame.body,
        created_at: new Date().toISOString(),
      });
      deliver(frame.room, out);
      void pub.publish(prefix + frame.room, `${origin} ${out}`);
      ws.send(`{"type":"ack","ref":${JSON.stringify(frame.ref ?? null)}}`);
    }
  });
  ws.on("close", () => {
    for (const room of joined) leave(ws, room);
  });
  ws.on("error", () => ws.terminate());
  ws.send('{"type":"ready"}');
});

http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = http.address();
  console.log(JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 }));
});

process.on("SIGTERM", () => {
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
