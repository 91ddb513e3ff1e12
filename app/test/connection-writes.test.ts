// Connection.deliver coalesces the frames of one tick into one socket write, keeps their order,
// and still drops a slow consumer by its buffered bytes. A real ws server and client on
// loopback; nothing else runs.
import type { AddressInfo, Socket } from "node:net";
import { createServer, type Server } from "node:http";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { Metrics } from "../src/observability/metrics.js";
import { Connection, type ConnectionContext } from "../src/ws/connection.js";
import { SharedFrame } from "../src/ws/encode.js";

interface Pair {
  connection: Connection;
  client: WebSocket;
  received: string[];
  /** Write system calls on the server's TCP socket (write or writev). */
  writes: () => number;
  closed: Promise<number>;
}

const servers: Server[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function pair(maxBufferedBytes = 1 << 20): Promise<Pair> {
  const server = createServer();
  servers.push(server);
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  clients.push(client);
  const received: string[] = [];
  client.on("message", (data: Buffer) => received.push(data.toString()));
  const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
  const ws = await accepted;
  const socket = (ws as unknown as { _socket: Socket & { _writev: unknown; _write: unknown } })._socket;
  let writes = 0;
  for (const method of ["_write", "_writev"] as const) {
    const original = socket[method] as (...args: unknown[]) => void;
    socket[method] = (...args: unknown[]) => {
      writes++;
      return original.apply(socket, args);
    };
  }
  const ctx = {
    metrics: new Metrics(),
    logger: pino({ level: "silent" }),
    ratePerSecond: 100,
    maxBufferedBytes,
    lifecycle: { shuttingDown: false },
    track: <T>(work: Promise<T>) => work,
  } as unknown as ConnectionContext;
  return {
    connection: new Connection(ws, "user", "client", 0, ctx),
    client,
    received,
    writes: () => writes,
    closed,
  };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("Connection.deliver", () => {
  it("writes the frames of one tick with one system call, in order", async () => {
    const p = await pair();
    const frames = Array.from({ length: 20 }, (_, i) => Buffer.from(`{"n":${i}}`));
    for (const frame of frames) expect(p.connection.deliver(frame)).toBe(true);
    await until(() => p.received.length === 20);
    expect(p.received).toEqual(frames.map((f) => f.toString()));
    expect(p.writes()).toBe(1);
  });

  it("writes one pre-framed message to many connections, in order with the other frames", async () => {
    const [a, b] = [await pair(), await pair()];
    // The three WebSocket length encodings: 7-bit, 16-bit and 64-bit.
    const shared = [10, 300, 70_000].map((n) => new SharedFrame(Buffer.from(`{"body":"${"x".repeat(n)}"}`)));
    for (const p of [a, b]) {
      p.connection.deliver('{"before":true}');
      for (const frame of shared) expect(p.connection.deliver(frame)).toBe(true);
      p.connection.deliver('{"after":true}');
    }
    const expected = ['{"before":true}', ...shared.map((f) => f.payload.toString()), '{"after":true}'];
    await until(() => a.received.length === 5 && b.received.length === 5);
    expect(a.received).toEqual(expected);
    expect(b.received).toEqual(expected);
    expect([a.writes(), b.writes()]).toEqual([1, 1]);
  });

  it("writes frames of separate ticks separately", async () => {
    const p = await pair();
    for (let i = 0; i < 3; i++) {
      p.connection.deliver(`{"n":${i}}`);
      await new Promise((r) => setImmediate(r));
    }
    await until(() => p.received.length === 3);
    expect(p.received).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    expect(p.writes()).toBe(3);
  });

  it("takes a burst larger than the cap in one tick, and drops a consumer that stops reading", async () => {
    const p = await pair(64 * 1024);
    const big = Buffer.alloc(20 * 1024, 0x61);
    // One tick's frames are not late yet: a burst above the cap is written, not punished.
    expect([1, 2, 3, 4, 5].map(() => p.connection.deliver(big))).toEqual([true, true, true, true, true]);
    await until(() => p.received.length === 5);
    (p.client as unknown as { _socket: Socket })._socket.pause();
    const huge = Buffer.alloc(512 * 1024, 0x62);
    let accepted = 0;
    while (accepted < 1000 && p.connection.deliver(huge)) {
      accepted++;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(accepted).toBeLessThan(1000);
    (p.client as unknown as { _socket: Socket })._socket.resume();
    expect(await p.closed).toBe(1006);
  });
});
