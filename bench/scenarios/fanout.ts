// Fan-out at a fixed offered rate (open loop) and persisted sends as fast as acks allow (closed
// loop). Layout, the same for every system, over its N instances (2 in npm run bench): room r's
// member j connects to instance (r·M + j) mod N and lives in receiver process j mod P; room r's
// sender is one more connection (as member 0) on instance r mod N, in the pacer process. So every
// message reaches members on every instance (when M ≥ N).
import { randomInt } from "node:crypto";
import { nowUs, sleep } from "../lib/clock";
import { mergeHistograms, summarise, type LatencySummary } from "../lib/histogram";
import type { ClientSpec, ReceiverReport } from "../lib/ipc";
import { startMeter, type MachineReading } from "../lib/meter";
import { withWorkers, type ClientWorker } from "../lib/workers";
import type { RunningSystem } from "../systems/types";

export interface DeliveryFigures {
  sent: number;
  /** Sends the system refused (error frame). */
  errors: number;
  expectedDeliveries: number;
  deliveries: number;
  deliveriesPerSecond: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  stray: number;
  reconnects: number;
  latency: LatencySummary;
  ack: LatencySummary;
  /** How late the generator sent against its schedule. */
  pacerLag: LatencySummary;
  /** Systems that persist: messages of this step found in PostgreSQL afterwards (must equal sent - errors). */
  persisted?: number;
  /** The first error frame a sender got back, verbatim (why `errors` is not 0). */
  firstError?: string;
  /** Sender sockets the server closed during the step (e.g. 4008, the frame-rate limit). */
  senderCloses: number;
  machine: MachineReading;
}

export interface FanoutResult extends DeliveryFigures {
  system: string;
  offeredRate: number;
  /** Which repetition of this step (0-based) when the step is repeated (--repeat). */
  repeat?: number;
  achievedRate: number;
}

export interface AckResult extends DeliveryFigures {
  system: string;
  /** Sends each sender keeps in flight. */
  window: number;
  ackedPerSecond: number;
  errorRatePct: number;
}

export interface StepTiming {
  warmupS: number;
  durationS: number;
  bodySize: number;
  /** How long to wait for the last deliveries after the last send. */
  drainS: number;
}

let runCounter = randomInt(1000, 9000) * 1000;

/** The members' sockets (the layout above), one list per receiver process. */
export function receiverSpecs(
  system: RunningSystem,
  membersPerRoom: number,
  processes: number,
  otherInstanceOnly: boolean,
): ClientSpec[][] {
  const specs: ClientSpec[][] = Array.from({ length: processes }, () => []);
  const n = system.instances.length;
  system.rooms.forEach((room, r) => {
    for (let j = 0; j < membersPerRoom; j++) {
      const instance = otherInstanceOnly ? (r + 1) % n : (r * membersPerRoom + j) % n;
      specs[j % processes]!.push({
        base: system.instances[instance]!.base,
        credential: room.members[j % room.members.length]!,
        room: room.key,
        roomIndex: r,
      });
    }
  });
  return specs;
}

/** One sender socket per room (as member 0), on instance r mod N. */
export function senderSpecs(system: RunningSystem): ClientSpec[] {
  return system.rooms.map((room, r) => ({
    base: system.instances[r % system.instances.length]!.base,
    credential: room.members[0]!,
    room: room.key,
    roomIndex: r,
  }));
}

async function open(
  worker: ClientWorker,
  system: RunningSystem,
  clients: ClientSpec[],
  join: boolean,
): Promise<void> {
  const reply = await worker.request(
    { op: "open", system: system.protocol, clients, concurrency: 32, join },
    "opened",
  );
  if (reply.failed > 0)
    throw new Error(
      `${system.name}: ${reply.failed}/${clients.length} clients failed to connect: ${reply.firstError}`,
    );
}

/** Runs one step: open everybody, send (open or closed loop), drain, collect. */
async function step(
  system: RunningSystem,
  options: {
    membersPerRoom: number;
    receiverProcesses: number;
    otherInstanceOnly: boolean;
    timing: StepTiming;
  },
  send: (pacer: ClientWorker, run: number, startUs: number) => Promise<import("../lib/ipc").SenderReport>,
): Promise<DeliveryFigures & { sentReport: import("../lib/ipc").SenderReport; windowS: number }> {
  const { timing } = options;
  const groups = receiverSpecs(
    system,
    options.membersPerRoom,
    options.receiverProcesses,
    options.otherInstanceOnly,
  );
  return withWorkers(groups.length + 1, async (workers) => {
    const pacer = workers[groups.length]!;
    await Promise.all([
      ...groups.map((g, i) => open(workers[i]!, system, g, true)),
      open(pacer, system, senderSpecs(system), false),
    ]);
    const receivers = workers.slice(0, groups.length);
    const run = ++runCounter;
    const startUs = nowUs() + 500_000;
    const windowFromUs = startUs + timing.warmupS * 1e6;
    const windowToUs = windowFromUs + timing.durationS * 1e6;
    await Promise.all(receivers.map((w) => w.request({ op: "arm", run, windowFromUs, windowToUs }, "armed")));
    const helpers = await system.helperPids();
    // A system that stores has database backends: none found would read as 0 database CPU.
    if (system.countStored && helpers.length === 0)
      throw new Error(`${system.name}: no database backends to time (its connections must stay open)`);
    const meter = startMeter(
      system.instances.map((i) => i.pid),
      helpers,
    );
    const sent = await send(pacer, run, startUs);
    const machine = meter();
    const expectedPerRoom = sent.sentPerRoom.map((n, r) => n - sent.errorsPerRoom[r]!);
    const clientsPerRoom = system.rooms.map(() => options.membersPerRoom);
    const expectedDeliveries = expectedPerRoom.reduce((sum, n, r) => sum + n * clientsPerRoom[r]!, 0);
    // Drain: until everything expected arrived, or nothing new came for a while.
    let last = -1;
    let still = 0;
    for (let waited = 0; waited < timing.drainS * 1000; waited += 250) {
      const progress = await Promise.all(receivers.map((w) => w.request({ op: "progress" }, "progress")));
      const unique = progress.reduce((sum, p) => sum + p.unique, 0);
      if (unique >= expectedDeliveries) break;
      still = unique === last ? still + 1 : 0;
      if (still >= 20) break;
      last = unique;
      await sleep(250);
    }
    const reports: ReceiverReport[] = await Promise.all(
      receivers.map((w) => w.request({ op: "report" }, "report")),
    );
    const uniquePerRoom = system.rooms.map((_, r) =>
      reports.reduce((sum, rep) => sum + (rep.uniquePerRoom[r] ?? 0), 0),
    );
    const lost = expectedPerRoom.reduce((sum, n, r) => sum + n * clientsPerRoom[r]! - uniquePerRoom[r]!, 0);
    const deliveries = uniquePerRoom.reduce((a, b) => a + b, 0);
    const inWindow = reports.reduce((sum, rep) => sum + rep.inWindow, 0);
    let persisted: number | undefined;
    if (system.countStored) persisted = await system.countStored(`~${run}.`);
    return {
      sent: sent.sentPerRoom.reduce((a, b) => a + b, 0),
      errors: sent.errorsPerRoom.reduce((a, b) => a + b, 0),
      expectedDeliveries,
      deliveries,
      deliveriesPerSecond: Math.round(inWindow / timing.durationS),
      lost,
      duplicates: reports.reduce((sum, rep) => sum + rep.duplicates, 0),
      outOfOrder: reports.reduce((sum, rep) => sum + rep.outOfOrder, 0),
      stray: reports.reduce((sum, rep) => sum + rep.stray, 0),
      reconnects: reports.reduce((sum, rep) => sum + rep.reconnects, 0),
      latency: summarise(mergeHistograms(reports.map((rep) => rep.latency))),
      ack: summarise(mergeHistograms([sent.ack])),
      pacerLag: summarise(mergeHistograms([sent.lag])),
      ...(persisted !== undefined ? { persisted } : {}),
      ...(sent.firstError ? { firstError: sent.firstError } : {}),
      senderCloses: sent.closes,
      machine,
      sentReport: sent,
      windowS: timing.durationS,
    };
  });
}

export async function fanoutStep(
  system: RunningSystem,
  rate: number,
  options: { membersPerRoom: number; receiverProcesses: number; timing: StepTiming },
): Promise<FanoutResult> {
  const { timing } = options;
  const figures = await step(system, { ...options, otherInstanceOnly: false }, (pacer, run, startUs) =>
    pacer.request(
      {
        op: "pace",
        run,
        startUs,
        warmupUs: timing.warmupS * 1e6,
        durationUs: timing.durationS * 1e6,
        rate,
        bodySize: timing.bodySize,
      },
      "sent",
    ),
  );
  const { sentReport: _sent, windowS, ...rest } = figures;
  return {
    system: system.name,
    offeredRate: rate,
    achievedRate: Math.round(figures.sent / (timing.warmupS + windowS)),
    ...rest,
  };
}

export async function ackStep(
  system: RunningSystem,
  options: { window: number; membersPerRoom: number; timing: StepTiming },
): Promise<AckResult> {
  const { timing } = options;
  const figures = await step(
    system,
    { membersPerRoom: options.membersPerRoom, receiverProcesses: 1, otherInstanceOnly: true, timing },
    (pacer, run, startUs) =>
      pacer.request(
        {
          op: "closed-loop",
          run,
          startUs,
          warmupUs: timing.warmupS * 1e6,
          durationUs: timing.durationS * 1e6,
          window: options.window,
          bodySize: timing.bodySize,
        },
        "sent",
      ),
  );
  const { sentReport, windowS, ...rest } = figures;
  return {
    system: system.name,
    window: options.window,
    ackedPerSecond: Math.round(sentReport.ackedInWindow / windowS),
    errorRatePct:
      figures.sent === 0
        ? 0
        : Math.round((100_000 * (figures.errors + sentReport.unacked)) / figures.sent) / 1000,
    ...rest,
  };
}
