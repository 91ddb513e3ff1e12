// Idle sockets: N connections (spread over the instances and at least two client processes, more
// when the open-file limit needs it), each authenticated where the system authenticates and joined
// to one room, then silent. The cost per connection is the growth of the servers' resident memory
// divided by N.
import { sleep } from "../lib/clock";
import type { ClientSpec } from "../lib/ipc";
import { openFileLimit, processesFor, rssKb } from "../lib/proc-readings";
import { withWorkers } from "../lib/workers";
import type { RunningSystem } from "../systems/types";

export interface IdleResult {
  system: string;
  connections: number;
  rssBeforeMb: number[];
  rssAfterMb: number[];
  kbPerConnection: number;
}

export async function idleStep(
  system: RunningSystem,
  connections: number,
  settleS: number,
): Promise<IdleResult> {
  const limit = openFileLimit();
  const perInstance = Math.ceil(connections / system.instances.length);
  if (processesFor(perInstance, limit) > 1)
    throw new Error(
      `${system.name}: ${connections} idle sockets over ${system.instances.length} instances is ${perInstance} per server process, more than the open-file limit (ulimit -n ${limit}) leaves room for: use more instances or raise the limit`,
    );
  const processes = Math.max(2, processesFor(connections, limit));
  const groups: ClientSpec[][] = Array.from({ length: processes }, () => []);
  for (let i = 0; i < connections; i++) {
    const r = i % system.rooms.length;
    const room = system.rooms[r]!;
    groups[i % processes]!.push({
      base: system.instances[i % system.instances.length]!.base,
      credential: room.members[Math.floor(i / system.rooms.length) % room.members.length]!,
      room: room.key,
      roomIndex: r,
    });
  }
  await sleep(settleS * 1000);
  const before = system.instances.map((i) => rssKb(i.pid));
  return withWorkers(processes, async (workers) => {
    const opened = await Promise.all(
      workers.map((w, i) =>
        w.request(
          { op: "open", system: system.protocol, clients: groups[i]!, concurrency: 64, join: true },
          "opened",
        ),
      ),
    );
    const failed = opened.reduce((sum, o) => sum + o.failed, 0);
    if (failed > 0)
      throw new Error(
        `${system.name}: ${failed} idle connections failed: ${opened.find((o) => o.firstError)?.firstError}`,
      );
    await sleep(settleS * 1000);
    const after = system.instances.map((i) => rssKb(i.pid));
    const grown = after.reduce((sum, kb, i) => sum + kb - before[i]!, 0);
    return {
      system: system.name,
      connections,
      rssBeforeMb: before.map((kb) => Math.round(kb / 102.4) / 10),
      rssAfterMb: after.map((kb) => Math.round(kb / 102.4) / 10),
      kbPerConnection: Math.round((10 * grown) / connections) / 10,
    };
  });
}
