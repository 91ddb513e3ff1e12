// A load-generator process (forked by the coordinator, IPC over process.send). It plays either
// role, decided by the coordinator's messages:
//  - receivers: room members that join one room each and check every delivery (loss, duplicates,
//    order) and time it against the sender's stamp;
//  - pacer: one sender per room, either at a fixed offered rate (open loop: the schedule does
//    not wait for the system) or as fast as acknowledgements allow (closed loop).
import { nowUs, sleep } from "../lib/clock";
import { openClient, type BenchClient, type SystemName } from "../lib/clients";
import { encodeHistogram, newHistogram, record } from "../lib/histogram";
import type { ClientSpec, FromWorker, ReceiverReport, SenderReport, ToWorker } from "../lib/ipc";
import { markerBody, readIntAfter, readMarker, type Marker } from "../lib/marker";
import { httpPace } from "./http-pacer";

const SEQ = Buffer.from('"seq":');

interface Member {
  spec: ClientSpec;
  client: BenchClient | undefined;
  seen: Uint8Array;
  maxK: number;
  /** ChatAPI: the last seq received, to resume after a reconnect. */
  lastSeq: number;
}

let system: SystemName = "chatapi";
const members: Member[] = [];
let closing = false;

// Receiver state for the armed run.
let run = 0;
let windowFromUs = 0;
let windowToUs = 0;
let latency = newHistogram();
let duplicates = 0;
let outOfOrder = 0;
let stray = 0;
let reconnects = 0;
let inWindow = 0;
let unique = 0;
let uniquePerRoom: number[] = [];

const marker: Marker = { run: 0, room: 0, k: 0, sentUs: 0, measured: false };

function reply(message: FromWorker): void {
  process.send!(message);
}

function onDelivery(member: Member, frame: Buffer): void {
  const now = nowUs();
  if (!readMarker(frame, marker) || marker.run !== run || marker.room !== member.spec.roomIndex) {
    stray++;
    return;
  }
  if (system === "chatapi") member.lastSeq = Math.max(member.lastSeq, readIntAfter(frame, SEQ));
  const k = marker.k;
  if (k >= member.seen.length) {
    const grown = new Uint8Array(Math.max(k + 1, member.seen.length * 2));
    grown.set(member.seen);
    member.seen = grown;
  }
  if (member.seen[k] === 1) {
    duplicates++;
    return;
  }
  member.seen[k] = 1;
  unique++;
  uniquePerRoom[member.spec.roomIndex] = (uniquePerRoom[member.spec.roomIndex] ?? 0) + 1;
  if (k < member.maxK) outOfOrder++;
  else member.maxK = k;
  if (marker.measured) record(latency, now - marker.sentUs);
  if (now >= windowFromUs && now <= windowToUs) inWindow++;
}

async function connectMember(member: Member, join: boolean, resume: boolean): Promise<void> {
  const client = await openClient(system, member.spec.base, member.spec.credential);
  member.client = client;
  client.onDelivery = (frame) => onDelivery(member, frame);
  client.ws.on("close", () => {
    if (closing || member.client !== client) return;
    reconnects++;
    void reconnect(member);
  });
  if (join) {
    const afterSeq = resume && system === "chatapi" && member.lastSeq >= 0 ? member.lastSeq : undefined;
    await client.join(member.spec.room, afterSeq);
    if (system === "chatapi" && member.lastSeq < 0) member.lastSeq = client.joinedSeq;
  }
}

/** A dropped member comes back the way a real client would: ChatAPI resumes after its last seq. */
async function reconnect(member: Member): Promise<void> {
  member.client = undefined;
  for (let attempt = 0; attempt < 20 && !closing; attempt++) {
    await sleep(100 * (attempt + 1));
    try {
      await connectMember(member, true, true);
      return;
    } catch {
      // try again
    }
  }
}

async function openAll(clients: ClientSpec[], concurrency: number, join: boolean): Promise<void> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const start = members.length;
  for (const spec of clients)
    members.push({ spec, client: undefined, seen: new Uint8Array(1024), maxK: -1, lastSeq: -1 });
  const lane = async () => {
    while (next < clients.length) {
      const member = members[start + next++]!;
      try {
        await connectMember(member, join, false);
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane));
  reply({ op: "opened", opened: clients.length - failed, failed, ...(firstError ? { firstError } : {}) });
}

function receiverReport(): ReceiverReport {
  const rooms = Math.max(0, ...members.map((m) => m.spec.roomIndex + 1));
  const clientsPerRoom = new Array<number>(rooms).fill(0);
  for (const m of members) clientsPerRoom[m.spec.roomIndex]!++;
  return {
    op: "report",
    clientsPerRoom,
    uniquePerRoom: Array.from({ length: rooms }, (_, i) => uniquePerRoom[i] ?? 0),
    duplicates,
    outOfOrder,
    stray,
    reconnects,
    inWindow,
    latency: encodeHistogram(latency),
  };
}

/** Sender bookkeeping shared by the open- and closed-loop pacers. */
class SendLog {
  readonly sentPerRoom: number[];
  readonly errorsPerRoom: number[];
  readonly ack = newHistogram();
  readonly lag = newHistogram();
  acked = 0;
  ackedInWindow = 0;
  closes = 0;
  firstError: string | undefined;
  private sentAt = new Float64Array(1 << 16);
  private measured = new Uint8Array(1 << 16);
  private roomOf = new Uint16Array(1 << 16);
  private settled = new Uint8Array(1 << 16);
  private refs = 0;
  outstanding = 0;

  constructor(
    readonly rooms: number,
    private readonly windowFromUs: number,
    private readonly windowToUs: number,
    private readonly onSettled: (room: number) => void = () => undefined,
  ) {
    this.sentPerRoom = new Array<number>(rooms).fill(0);
    this.errorsPerRoom = new Array<number>(rooms).fill(0);
  }

  send(client: BenchClient, room: number, spec: ClientSpec, measured: boolean, bodySize: number): void {
    const ref = this.refs++;
    if (ref >= this.sentAt.length) this.grow();
    const k = this.sentPerRoom[room]!++;
    const sentUs = nowUs();
    this.sentAt[ref] = sentUs;
    this.measured[ref] = measured ? 1 : 0;
    this.roomOf[ref] = room;
    this.outstanding++;
    client.send(spec.room, markerBody({ run, room, k, sentUs, measured }, bodySize), ref);
  }

  onAck(ref: number): void {
    if (ref < 0 || ref >= this.refs || this.settled[ref]) return;
    this.settled[ref] = 1;
    this.outstanding--;
    this.acked++;
    const now = nowUs();
    if (this.measured[ref]) record(this.ack, now - this.sentAt[ref]!);
    if (now >= this.windowFromUs && now <= this.windowToUs) this.ackedInWindow++;
    this.onSettled(this.roomOf[ref]!);
  }

  onError(ref: number, frame: string): void {
    this.firstError ??= frame.slice(0, 300);
    if (ref < 0 || ref >= this.refs || this.settled[ref]) return;
    this.settled[ref] = 1;
    this.outstanding--;
    this.errorsPerRoom[this.roomOf[ref]!]!++;
    this.onSettled(this.roomOf[ref]!);
  }

  report(): SenderReport {
    return {
      op: "sent",
      sentPerRoom: this.sentPerRoom,
      errorsPerRoom: this.errorsPerRoom,
      acked: this.acked,
      ackedInWindow: this.ackedInWindow,
      unacked: this.outstanding,
      ...(this.firstError ? { firstError: this.firstError } : {}),
      ack: encodeHistogram(this.ack),
      lag: encodeHistogram(this.lag),
      closes: this.closes,
    };
  }

  private grow(): void {
    const size = this.sentAt.length * 2;
    const grow = <T extends Float64Array | Uint8Array | Uint16Array>(old: T, next: T) => (
      next.set(old),
      next
    );
    this.sentAt = grow(this.sentAt, new Float64Array(size));
    this.measured = grow(this.measured, new Uint8Array(size));
    this.roomOf = grow(this.roomOf, new Uint16Array(size));
    this.settled = grow(this.settled, new Uint8Array(size));
  }
}

function senders(): Array<{ client: BenchClient; spec: ClientSpec }> {
  return members.map((m) => {
    if (!m.client) throw new Error(`sender for room ${m.spec.roomIndex} is not connected`);
    return { client: m.client, spec: m.spec };
  });
}

function wire(log: SendLog): void {
  for (const m of members) {
    m.client!.onAck = (ref) => log.onAck(ref);
    m.client!.onSendError = (ref, frame) => log.onError(ref, frame);
    m.client!.ws.on("close", () => log.closes++);
  }
}

async function waitAcks(log: SendLog, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (log.outstanding > 0 && Date.now() < deadline) await sleep(20);
}

/** Open loop: message i is due at start + i/rate, round-robin over the rooms. */
async function pace(message: Extract<ToWorker, { op: "pace" }>): Promise<void> {
  run = message.run;
  const out = senders();
  const endUs = message.startUs + message.warmupUs + message.durationUs;
  const log = new SendLog(out.length, message.startUs + message.warmupUs, endUs);
  wire(log);
  const intervalUs = 1_000_000 / message.rate;
  let i = 0;
  await sleep(Math.max(0, (message.startUs - nowUs()) / 1000));
  await new Promise<void>((done) => {
    const tick = () => {
      const now = nowUs();
      for (
        let due = message.startUs + i * intervalUs;
        due <= now && due < endUs;
        due = message.startUs + ++i * intervalUs
      ) {
        const room = i % out.length;
        record(log.lag, now - due);
        log.send(
          out[room]!.client,
          room,
          out[room]!.spec,
          due >= message.startUs + message.warmupUs,
          message.bodySize,
        );
      }
      if (now >= endUs) done();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await waitAcks(log, 15_000);
  reply(log.report());
}

/** Closed loop: each room's sender keeps `window` sends in flight until the time is up. */
async function closedLoop(message: Extract<ToWorker, { op: "closed-loop" }>): Promise<void> {
  run = message.run;
  const out = senders();
  const measureFrom = message.startUs + message.warmupUs;
  const endUs = measureFrom + message.durationUs;
  const sendNext = (room: number) => {
    const now = nowUs();
    if (now >= endUs || out[room]!.client.ws.readyState !== 1) return;
    log.send(out[room]!.client, room, out[room]!.spec, now >= measureFrom, message.bodySize);
  };
  const log = new SendLog(out.length, measureFrom, endUs, sendNext);
  wire(log);
  await sleep(Math.max(0, (message.startUs - nowUs()) / 1000));
  for (let room = 0; room < out.length; room++) for (let w = 0; w < message.window; w++) sendNext(room);
  await sleep(Math.max(0, (endUs - nowUs()) / 1000));
  await waitAcks(log, 15_000);
  reply(log.report());
}

process.on("message", (message: ToWorker) => {
  switch (message.op) {
    case "open":
      system = message.system;
      void openAll(message.clients, message.concurrency, message.join);
      break;
    case "arm":
      run = message.run;
      windowFromUs = message.windowFromUs;
      windowToUs = message.windowToUs;
      latency = newHistogram();
      duplicates = outOfOrder = stray = reconnects = inWindow = unique = 0;
      uniquePerRoom = [];
      for (const m of members) {
        m.seen.fill(0);
        m.maxK = -1;
      }
      reply({ op: "armed" });
      break;
    case "pace":
      void pace(message);
      break;
    case "closed-loop":
      void closedLoop(message);
      break;
    case "http-pace":
      void httpPace(message).then(reply);
      break;
    case "progress":
      reply({ op: "progress", unique });
      break;
    case "report":
      reply(receiverReport());
      break;
    case "close":
      closing = true;
      for (const m of members) m.client?.close();
      reply({ op: "closed" });
      setTimeout(() => process.exit(0), 200).unref();
      break;
  }
});

process.on("disconnect", () => process.exit(0));
