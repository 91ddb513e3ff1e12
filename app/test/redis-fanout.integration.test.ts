// The Redis fan-out's publisher writes each publish to Redis at once, before control returns to
// the event loop: the other instances can start their fan-out while this one is still busy with
// its own subscribers (auto-pipelining would hold it until setImmediate).
import type { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisFanout } from "../src/infra/redis-fanout.js";
import { required, uniqueSuffix } from "./support/services.js";

const logger = pino({ level: "silent" });
let publisher: RedisFanout;
let subscriber: RedisFanout;
const prefix = `chatapi-test-${uniqueSuffix()}:`;

beforeAll(async () => {
  const url = required("CHATAPI_TEST_REDIS_URL");
  publisher = new RedisFanout({ url, prefix, logger });
  subscriber = new RedisFanout({ url, prefix, logger });
  await Promise.all([publisher.start(), subscriber.start()]);
});

afterAll(async () => {
  await Promise.all([publisher?.close(), subscriber?.close()]);
});

describe("RedisFanout.publish", () => {
  it("writes to Redis synchronously and reaches a subscriber on another connection", async () => {
    const arrived: string[] = [];
    subscriber.setHandlers({
      onMessage: (roomId, payload) => arrived.push(`${roomId} ${payload.toString()}`),
      onInterrupted: () => undefined,
      onResync: () => undefined,
    });
    await subscriber.subscribe("room-1");
    const socket = (publisher as unknown as { pub: Redis }).pub.stream;
    const before = socket.bytesWritten;
    publisher.publish("room-1", Buffer.from("M1 first"));
    publisher.publish("room-1", Buffer.from("M2 second"));
    // No await in between: both commands are already on the wire.
    expect(socket.bytesWritten - before).toBeGreaterThan("M1 first".length + "M2 second".length);
    for (let i = 0; i < 200 && arrived.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(arrived).toEqual(["room-1 M1 first", "room-1 M2 second"]);
  });
});

describe("RedisFanout while its publisher reconnects", () => {
  it("keeps every kick and the newest message of a room, and publishes them once it is back", async () => {
    const arrived: string[] = [];
    subscriber.setHandlers({
      onMessage: (roomId, payload) => arrived.push(`${roomId} ${payload.toString()}`),
      onInterrupted: () => undefined,
      onResync: () => undefined,
    });
    await subscriber.subscribe("room-2");
    const pub = (publisher as unknown as { pub: Redis }).pub;
    pub.disconnect(true); // drops the connection; ioredis reconnects by itself (after 100 ms)
    for (let i = 0; i < 500 && pub.status === "ready"; i++) await new Promise((r) => setTimeout(r, 1));
    expect(pub.status).not.toBe("ready");
    publisher.publish("room-2", Buffer.from("Kuser-a"), { keep: true });
    publisher.publish("room-2", Buffer.from("M5 five"));
    publisher.publish("room-2", Buffer.from("Kuser-b"), { keep: true });
    publisher.publish("room-2", Buffer.from("M6 six")); // stands in for M5 (gap detection reads it)
    for (let i = 0; i < 300 && arrived.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(arrived).toEqual(["room-2 Kuser-a", "room-2 Kuser-b", "room-2 M6 six"]);
  });
});

describe("RedisFanout when its subscriber connection is killed", () => {
  it("tells the hub at once (interrupted), re-subscribes, then asks it to resync", async () => {
    const events: string[] = [];
    subscriber.setHandlers({
      onMessage: (roomId, payload) => events.push(`message ${roomId} ${payload.toString()}`),
      onInterrupted: () => events.push("interrupted"),
      onResync: () => events.push("resync"),
    });
    await subscriber.subscribe("room-3");
    const sub = (subscriber as unknown as { sub: Redis }).sub;
    sub.disconnect(true); // as CLIENT KILL TYPE pubsub does; ioredis reconnects by itself
    for (let i = 0; i < 300 && !events.includes("resync"); i++) await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(["interrupted", "resync"]);
    publisher.publish("room-3", Buffer.from("M1 after"));
    for (let i = 0; i < 300 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(["interrupted", "resync", "message room-3 M1 after"]);
  });
});
