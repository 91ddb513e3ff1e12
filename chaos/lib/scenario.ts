// Shared pieces of every fault scenario: the load per scale, recovery timing, and turning a
// LoadReport into a ScenarioResult with the checks every scenario makes.
import type { LoadReport } from "./load";
import { sleep } from "../../toolbox/processes";
import type { Scale, ScenarioResult } from "./results";

export interface LoadShape {
  senders: number;
  subscribersPerInstance: number;
  rooms: number;
  ratePerSender: number;
  /** Steady load before the fault, and after recovery, in ms. */
  beforeMs: number;
  afterMs: number;
}

export function loadShape(scale: Scale, instances: number): LoadShape {
  return scale === "short"
    ? { senders: 4, subscribersPerInstance: 2, rooms: 2, ratePerSender: 10, beforeMs: 1500, afterMs: 2000 }
    : {
        senders: 8,
        subscribersPerInstance: Math.max(4, Math.ceil(12 / instances)),
        rooms: 4,
        ratePerSender: 20,
        beforeMs: 5000,
        afterMs: 8000,
      };
}

export function describeLoad(shape: LoadShape, instances: number, via = ""): string {
  const subs = shape.subscribersPerInstance * instances;
  return `${shape.senders} senders (REST and WebSocket with client_msg_id, REST without) × ${shape.rooms} rooms at ${shape.senders * shape.ratePerSender} msg/s, ${subs} subscribers on ${instances} instance${instances > 1 ? "s" : ""}${via}, one removed from a room under load`;
}

/** Polls `probe` from now on; resolves with ms since `since` when it first passes (null on timeout). */
export async function timeUntil(
  since: number,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return Date.now() - since;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  return null;
}

export async function readyStatus(base: string): Promise<number> {
  try {
    const response = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(3000) });
    await response.text();
    return response.status;
  } catch {
    return 0;
  }
}

type Check = ScenarioResult["checks"][number];

export const check = (name: string, ok: boolean, detail?: string): Check => ({
  name,
  ok,
  ...(detail ? { detail } : {}),
});

/** The checks every scenario makes on its load. */
export function loadChecks(report: LoadReport): Check[] {
  return [
    check("no acked message lost", report.lost === 0, `lost ${report.lost}`),
    check(
      "every acked message stored once under its acked seq",
      report.ackedNotStored === 0 && report.storedTwice === 0 && report.ackMismatch === 0,
      `acked-not-stored ${report.ackedNotStored}, stored twice ${report.storedTwice}, ack mismatch ${report.ackMismatch}`,
    ),
    check(
      "every stored message reached every subscriber",
      report.missedStored === 0,
      `missed ${report.missedStored}`,
    ),
    check("no duplicate delivery", report.duplicated === 0, `duplicated ${report.duplicated}`),
    check("delivery in seq order", report.outOfOrder === 0, `out of order ${report.outOfOrder}`),
    check(
      "seqs gapless in PostgreSQL",
      report.roomsWithGaps === 0,
      `rooms with gaps ${report.roomsWithGaps}`,
    ),
    check(
      "no 500 (other than 503) answered",
      Object.keys(report.outcomes).every((k) => !/^5\d\d$/.test(k) || k === "503"),
      JSON.stringify(report.outcomes),
    ),
    check(
      "every send eventually acked (a send without client_msg_id whose answer was lost is not repeated)",
      report.abandoned === 0 && report.acked + report.unknownOutcome === report.sent,
      `sent ${report.sent} (${report.sendsByKind}), acked ${report.acked}, answer lost ${report.unknownOutcome}, abandoned ${report.abandoned}`,
    ),
    check(
      "a member removed under load got nothing committed after its removal, and was told",
      report.removed > 0 && report.deliveredAfterRemoval === 0 && report.removalNoticed === report.removed,
      `removed ${report.removed}, told ${report.removalNoticed}, messages after the removal that reached them ${report.deliveredAfterRemoval}`,
    ),
  ];
}

export function result(
  base: { id: string; title: string; load: string; fault: string },
  report: LoadReport,
  recoveryMs: number | null,
  extra: Record<string, number | string>,
  checks: Check[],
): ScenarioResult {
  const statuses = Object.entries(report.outcomes)
    .sort()
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");
  return {
    ...base,
    sent: report.sent,
    acked: report.acked,
    delivered: report.delivered,
    lost: report.lost,
    duplicated: report.duplicated,
    outOfOrder: report.outOfOrder,
    recoveryMs,
    extra: {
      responses: statuses,
      reconnects: report.reconnects,
      "sends by kind": report.sendsByKind,
      "answer lost (no client_msg_id, not retried)": report.unknownOutcome,
      ...extra,
    },
    checks: [...loadChecks(report), ...checks],
  };
}

/** A failed setup still yields a result (so the table shows it) instead of an exception. */
export function crashed(base: { id: string; title: string }, error: unknown): ScenarioResult {
  return {
    ...base,
    load: "-",
    fault: "-",
    sent: 0,
    acked: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    recoveryMs: null,
    extra: {},
    checks: [check("scenario ran to the end", false, (error as Error).stack ?? String(error))],
  };
}
