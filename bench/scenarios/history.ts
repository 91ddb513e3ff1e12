// History reads at a fixed rate (ChatAPI only: the peers keep no history). Each request is a
// member's GET /rooms/{id}/messages?after_seq=<random>&limit=50, rooms and users drawn at
// random, alternating between the two instances.
//
// Two generators, one after the other: the benchmark's open-loop pacer (a request due every
// 1/rate s, whatever the earlier ones did; the figure the target is about), and autocannon as a
// maintained cross-check. autocannon's rate option lets each connection send its per-second
// quota back to back at the start of each second (autocannon lib/httpClient.js), so its
// latencies include those bursts.
import autocannon from "autocannon";
import { nowUs } from "../lib/clock";
import { mergeHistograms, summarise, type LatencySummary } from "../lib/histogram";
import { startMeter, type MachineReading } from "../lib/meter";
import { withWorkers } from "../lib/workers";
import type { ChatApiSystem } from "../systems/chatapi";

export interface HistoryResult {
  system: string;
  offeredRate: number;
  /** Which repetition of this step (0-based; --repeat). */
  repeat?: number;
  requestsPerSecond: number;
  sent: number;
  non2xx: number;
  errors: number;
  latency: LatencySummary;
  pacerLag: LatencySummary;
  firstError?: string;
  machine: MachineReading;
  autocannon: {
    requestsPerSecond: number;
    non2xx: number;
    errors: number;
    /** Per instance; autocannon reports percentiles, not mergeable histograms. */
    perInstance: Array<{ p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number }>;
    machine: MachineReading;
  };
}

export async function historyStep(
  system: ChatApiSystem,
  rate: number,
  options: { warmupS: number; durationS: number; limit?: number },
): Promise<HistoryResult> {
  const limit = options.limit ?? 50;
  const heads = await system.roomHeads();
  const pick = () => {
    const room = system.rooms[Math.floor(Math.random() * system.rooms.length)]!;
    const token = room.members[Math.floor(Math.random() * room.members.length)]!;
    const after = Math.floor(Math.random() * Math.max(1, (heads.get(room.key) ?? 0) - limit));
    return { path: `/api/v1/rooms/${room.key}/messages?after_seq=${after}&limit=${limit}`, token };
  };
  const requests = Array.from({ length: 5000 }, pick);
  const bases = system.instances.map((i) => i.base);
  const pids = system.instances.map((i) => i.pid);

  const open = await withWorkers(1, async ([worker]) => {
    const meter = startMeter(pids);
    const report = await worker!.request(
      {
        op: "http-pace",
        bases,
        requests,
        startUs: nowUs() + 300_000,
        warmupUs: options.warmupS * 1e6,
        durationUs: options.durationS * 1e6,
        rate,
        connectionsPerInstance: 64,
      },
      "http-done",
    );
    return { report, machine: meter() };
  });

  const meter = startMeter(pids);
  const results = await Promise.all(
    bases.map(
      (base) =>
        autocannon({
          url: base,
          connections: 10,
          overallRate: rate / bases.length,
          duration: options.durationS,
          requests: [
            {
              method: "GET",
              setupRequest: (request) => {
                const target = requests[Math.floor(Math.random() * requests.length)]!;
                return {
                  ...request,
                  path: target.path,
                  headers: { authorization: `Bearer ${target.token}` },
                };
              },
            },
          ],
        }) as Promise<autocannon.Result>,
    ),
  );
  const acMachine = meter();
  return {
    system: system.name,
    offeredRate: rate,
    requestsPerSecond: Math.round(open.report.inWindow / options.durationS),
    sent: open.report.sent,
    non2xx: open.report.non2xx,
    errors: open.report.errors,
    latency: summarise(mergeHistograms([open.report.latency])),
    pacerLag: summarise(mergeHistograms([open.report.lag])),
    ...(open.report.firstError ? { firstError: open.report.firstError } : {}),
    machine: open.machine,
    autocannon: {
      requestsPerSecond: Math.round(
        results.reduce((sum, r) => sum + r.requests.total, 0) / options.durationS,
      ),
      non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
      errors: results.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
      perInstance: results.map((r) => ({
        p50Ms: r.latency.p50,
        p90Ms: r.latency.p90,
        p99Ms: r.latency.p99,
        maxMs: r.latency.max,
      })),
      machine: acMachine,
    },
  };
}
