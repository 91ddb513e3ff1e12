// History reads at a fixed request rate with autocannon (ChatAPI only: the peers keep no
// history). Each request is a member's GET /rooms/{id}/messages?after_seq=<random>&limit=50,
// users and rooms drawn at random, half the rate on each instance (two autocannon runs at once).
import autocannon from "autocannon";
import type { ChatApiSystem } from "../systems/chatapi";
import { startMeter, type MachineReading } from "../lib/meter";

export interface HistoryResult {
  system: string;
  offeredRate: number;
  requests: number;
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Per instance, from autocannon's HDR histogram; the table shows the worse instance. */
  perInstance: Array<{ p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number }>;
  p99Ms: number;
  machine: MachineReading;
}

export async function historyStep(
  system: ChatApiSystem,
  rate: number,
  durationS: number,
  limit = 50,
): Promise<HistoryResult> {
  const heads = await system.roomHeads();
  const rooms = system.rooms.map((room) => ({ ...room, head: heads.get(room.key) ?? 0 }));
  const meter = startMeter(system.instances.map((i) => i.pid));
  const results = await Promise.all(
    system.instances.map(
      (instance) =>
        autocannon({
          url: instance.base,
          connections: 10,
          overallRate: rate / system.instances.length,
          duration: durationS,
          requests: [
            {
              method: "GET",
              setupRequest: (request) => {
                const room = rooms[Math.floor(Math.random() * rooms.length)]!;
                const token = room.members[Math.floor(Math.random() * room.members.length)]!;
                const after = Math.floor(Math.random() * Math.max(1, room.head - limit));
                return {
                  ...request,
                  path: `/api/v1/rooms/${room.key}/messages?after_seq=${after}&limit=${limit}`,
                  headers: { authorization: `Bearer ${token}` },
                };
              },
            },
          ],
        }) as Promise<autocannon.Result>,
    ),
  );
  const machine = meter();
  const perInstance = results.map((r) => ({
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
  }));
  const requests = results.reduce((sum, r) => sum + r.requests.total, 0);
  return {
    system: system.name,
    offeredRate: rate,
    requests,
    requestsPerSecond: Math.round(requests / durationS),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
    perInstance,
    p99Ms: Math.max(...perInstance.map((p) => p.p99Ms)),
    machine,
  };
}
