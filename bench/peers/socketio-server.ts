// Peer 1: a Socket.IO 4 chat server with @socket.io/redis-adapter, as its documentation sets
// it up. Clients connect over WebSocket only, `join` a room (acknowledged), and `send`
// {room, body}: the server broadcasts {room_id, sender_id, body, created_at} to the room on
// every instance and acknowledges. Nothing is persisted and nobody is authenticated.
// Env: PORT (0 = any), REDIS_URL, REDIS_PREFIX (the adapter's key). Prints {"port":N} when ready.
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
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

io.on("connection", (socket) => {
  const user = String(socket.handshake.query.user ?? "anonymous");
  socket.on("join", (room: unknown, ack?: () => void) => {
    if (typeof room === "string") void socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("send", (payload: SendPayload, ack?: (reply: unknown) => void) => {
    if (typeof payload?.room !== "string" || typeof payload.body !== "string") {
      if (typeof ack === "function") ack({ error: "room and body are required" });
      return;
    }
    io.to(payload.room).emit("message", {
      room_id: payload.room,
      sender_id: user,
      body: payload.body,
      created_at: new Date().toISOString(),
    });
    if (typeof ack === "function") ack({ ok: true });
  });
});

http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = http.address();
  console.log(JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 }));
});

process.on("SIGTERM", () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
