// Quick figures for one machine (not a test; prints numbers):
//   1. messages per second through one room on one instance (acked sends, and deliveries to
//      50 subscribers),
//   2. p50/p99 delivery latency between two instances (send on B, receive on A) and ack latency,
//   3. memory per idle WebSocket connection (RSS delta of the server / N sockets).
// Runs two `chatapi serve` processes from app/dist on a throwaway database and the shared
// Redis/PostgreSQL from scripts/setup. Usage (from the repository root, after npm run build):
//   npx tsx app/bench/quick.ts [--messages 5000] [--idle 2000]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startAppProcess, type AppProcess } from "../../toolbox/processes.js";
import { appEnv, createAdminKey, createTestDatabase, loadServicesEnv } from "../test/support/services.js";
import WebSocket from "ws";
import { call, type ChatSocket, connect, createTenant } from "../../toolbox/chat-client.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "5000" },
    idle: { type: "string", default: "2000" },
    subscribers: { type: "string", default: "50" },
  },
});
const MESSAGES = Number(values.messages);
const IDLE = Number(values.idle);
const SUBSCRIBERS = Number(values.subscribers);

/** A minimal client: counts message frames without parsing them. */
class RawClient {
  messages = 0;
  onAck: (text: string) => void = () => undefined;
  onMessage: ((text: string) => void) | undefined;
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {}

  static async open(base: string, token: string): Promise<RawClient> {
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws?token=${token}`, { perMessageDeflate: false });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("message", () => resolve()); // ready
      ws.once("error", reject);
    });
    ws.on("message", (data: Buffer) => {
      const head = data.toString("latin1", 0, 12);
      if (head === '{"type":"mes') {
        client.messages++;
        if (client.onMessage) client.onMessage(data.toString());
        for (const w of client.waiters.splice(0)) w();
      } else if (head === '{"type":"ack') client.onAck(data.toString());
      else for (const w of client.waiters.splice(0)) w();
    });
    return client;
  }

  async subscribe(roomId: string): Promise<void> {
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.ws.send(JSON.stringify({ type: "subscribe", room_id: roomId }));
    await done;
  }

  async waitMessages(n: number): Promise<void> {
    const deadline = Date.now() + 120_000;
    while (this.messages < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.messages}/${n} messages arrived`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  }
}

const rssKb = (p: AppProcess) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"))?.[1]);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  loadServicesEnv();
  const db = await createTestDatabase();
  const adminKey = await createAdminKey(db.url);
  const env = appEnv(db.url, {
    RATE_LIMIT_PER_MINUTE: "10000000",
    WS_SEND_RATE_PER_SECOND: "100000",
    // Every benchmark socket comes from loopback: lift the per-address cap.
    WS_MAX_CONNECTIONS_PER_ADDRESS: "1000000",
    DATABASE_POOL_SIZE: "10",
    DATABASE_MAX_OVERFLOW: "10",
  });
  const a = await startAppProcess({ ...env, INSTANCE_NAME: "bench-a" });
  const b = await startAppProcess({ ...env, INSTANCE_NAME: "bench-b" });
  try {
    const t = await createTenant(a.url, adminKey, "bench");
    const users: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < SUBSCRIBERS; i++) users.push(await t.newUser(`u${i}`));
    const room = await call<{ id: string }>(a.url, "POST", "/api/v1/rooms", {
      token: users[0]!.token,
      body: { name: "bench", member_ids: users.slice(1).map((u) => u.id) },
    });
    const roomId = room.body.id;

    // 1. Throughput through one room on one instance. Subscribers only count frames, so the
    // harness (same 2 cores) spends as little CPU as possible.
    const subs = await Promise.all(users.map((u) => RawClient.open(a.url, u.token)));
    await Promise.all(subs.map((s) => s.subscribe(roomId)));
    const senders = subs.slice(0, 10);
    const perSender = Math.floor(MESSAGES / senders.length);
    const window = 16;
    const started = performance.now();
    await Promise.all(
      senders.map(
        (s, k) =>
          new Promise<void>((done) => {
            let sent = 0;
            let acked = 0;
            const pump = () => {
              while (sent < perSender && sent - acked < window) {
                s.ws.send(
                  `{"type":"send","room_id":"${roomId}","body":"throughput ${k}-${sent}","client_msg_id":"t${k}-${sent}"}`,
                );
                sent++;
              }
            };
            s.onAck = () => {
              acked++;
              if (acked === perSender) done();
              else pump();
            };
            pump();
          }),
      ),
    );
    const ackedAt = performance.now();
    const total = perSender * senders.length;
    await Promise.all(subs.map((s) => s.waitMessages(total)));
    const deliveredAt = performance.now();
    const sendRate = total / ((ackedAt - started) / 1000);
    const deliveryRate = (total * subs.length) / ((deliveredAt - started) / 1000);

    // 2. Latency between instances: sender on B, subscriber on A, a steady 200 messages/s.
    const reader = subs[1]!;
    const writer = await RawClient.open(b.url, users[0]!.token);
    const latencies: number[] = [];
    const ackLatencies: number[] = [];
    const sentAt = new Map<string, number>();
    reader.onMessage = (text) => {
      const match = /"body":"lat (\d+)"/.exec(text);
      if (match) latencies.push(performance.now() - sentAt.get(match[1]!)!);
    };
    writer.onAck = (text) => {
      const match = /"client_msg_id":"l(\d+)"/.exec(text);
      if (match) ackLatencies.push(performance.now() - sentAt.get(match[1]!)!);
    };
    const LAT = 2000;
    for (let i = 0; i < LAT; i++) {
      sentAt.set(String(i), performance.now());
      writer.ws.send(`{"type":"send","room_id":"${roomId}","body":"lat ${i}","client_msg_id":"l${i}"}`);
      await sleep(5);
    }
    for (let i = 0; i < 200 && latencies.length < LAT; i++) await sleep(50);
    latencies.sort((x, y) => x - y);
    ackLatencies.sort((x, y) => x - y);
    for (const s of [...subs, writer]) s.ws.close();
    await sleep(1000);

    // 3. Memory per idle WebSocket (authenticated, subscribed to one room, then silent).
    const before = rssKb(a);
    const idle: ChatSocket[] = [];
    for (let i = 0; i < IDLE; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, IDLE - i) }, (_, j) =>
          connect(a.url, users[(i + j) % users.length]!.token),
        ),
      );
      idle.push(...batch);
    }
    await Promise.all(
      idle.map((s) => s.request({ type: "subscribe", room_id: roomId }, (f) => f.type === "subscribed")),
    );
    await sleep(3000);
    const after = rssKb(a);
    for (const s of idle) s.close();

    console.log(
      JSON.stringify(
        { machine: `${(await import("node:os")).cpus().length} cores`, node: process.version },
        null,
        0,
      ),
    );
    console.log(`1. one room, one instance: ${total} messages from 10 WebSocket senders (16 in flight each)`);
    console.log(
      `   acked sends: ${sendRate.toFixed(0)} messages/s; deliveries to ${subs.length} subscribers: ${deliveryRate.toFixed(0)} frames/s`,
    );
    console.log(
      `2. between instances (send on B, receive on A, 200 messages/s): ${latencies.length}/${LAT} received`,
    );
    const dist = (xs: number[]) =>
      [50, 90, 95, 99].map((p) => `p${p} ${pct(xs, p).toFixed(1)}`).join(", ") +
      ` ms (max ${xs.at(-1)!.toFixed(1)})`;
    console.log(`   delivery ${dist(latencies)}`);
    console.log(`   ack      ${dist(ackLatencies)}`);
    console.log(
      `   load average during the run: ${(await import("node:os"))
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")} on ${(await import("node:os")).cpus().length} cores`,
    );
    console.log(
      `3. idle WebSockets: ${IDLE} sockets, server RSS ${(before / 1024).toFixed(1)} MB → ${(after / 1024).toFixed(1)} MB: ${((after - before) / IDLE).toFixed(1)} KB per socket`,
    );
  } catch (error) {
    for (const p of [a, b])
      console.error(
        p.alive() ? "running" : "exited",
        p.output
          .filter((l) => !l.includes('"level":"info"'))
          .slice(-20)
          .join("\n"),
      );
    throw error;
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
