// One release operation (a deploy, a rollback, a failed deploy) measured under steady load
// through nginx: REST senders with client_msg_id and without, history readers, WebSocket
// subscribers on every API instance of the live release. The command runs exactly as an
// operator types it; the load's report says what clients saw meanwhile.
import { type LoadReport, Load } from "../lib/load";
import { sleep } from "../../toolbox/processes";
import type { CommandRun, MeasuredStack } from "./measured-stack";

export interface LoadSize {
  /** REST senders with client_msg_id. */
  senders: number;
  /** More REST senders without client_msg_id. */
  plainSenders: number;
  readers: number;
  subscribersPerInstance: number;
  rooms: number;
  /** Messages per second per sender (with or without client_msg_id). */
  ratePerSender: number;
  /** Steady load before the command, and after it is done (ms). */
  beforeMs: number;
  afterMs: number;
}

export const LOAD_SIZES: Record<"short" | "full", LoadSize> = {
  short: {
    senders: 3,
    plainSenders: 2,
    readers: 2,
    subscribersPerInstance: 2,
    rooms: 2,
    ratePerSender: 8,
    beforeMs: 3000,
    afterMs: 3000,
  },
  full: {
    senders: 6,
    plainSenders: 3,
    readers: 3,
    subscribersPerInstance: 4,
    rooms: 3,
    ratePerSender: 10,
    beforeMs: 10_000,
    afterMs: 10_000,
  },
};

export interface Operation {
  name: string;
  /** scripts/local arguments (the stack is added). */
  args: string[];
  /** The command must fail (a failed deploy) and the live release stay. */
  fails: boolean;
}

export interface Measured {
  operation: Operation;
  /** Members with an address who never connect: every message must reach them in one digest. */
  offline: { ids: string[]; addresses: string[] };
  rooms: string[];
  command: CommandRun;
  liveBefore: string;
  liveAfter: string;
  /** API instances the subscribers were on when the command started. */
  instancesAtStart: string[];
  report: LoadReport;
  /**
   * The failed requests, alike ones counted together: seconds after the command was launched
   * (its output's own clock starts a few seconds later, once its runtime is up), kind, what it saw.
   */
  failures: string[];
  /** Requests nginx dropped unanswered as it closed an idle keep-alive connection, sent again once (as browsers do). */
  keepAliveRetries: number;
  load: string;
}

export function describeSize(size: LoadSize, instances: number): string {
  return (
    `${size.senders} senders with client_msg_id and ${size.plainSenders} without, each at ${size.ratePerSender} msg/s, ` +
    `${size.readers} history readers at 5/s, ${size.subscribersPerInstance * instances} ` +
    `WebSocket subscribers (${size.subscribersPerInstance} per API instance), ${size.rooms} rooms`
  );
}

/** Offline members per operation (their digests prove the workers lost and repeated no job). */
const OFFLINE = 2;

export async function measure(
  stack: MeasuredStack,
  operation: Operation,
  size: LoadSize,
  /** Runs beside the command once it started (e.g. a second deploy that must be refused). */
  meanwhile?: () => Promise<void>,
): Promise<Measured> {
  const instances = stack.liveApiInstances();
  const users = size.senders + size.subscribersPerInstance * instances.length + size.plainSenders;
  const tag = Math.random().toString(36).slice(2, 8);
  const addressOf = (n: number) => (n >= users ? `offline-${n}-${tag}@deploys.chatapi.test` : undefined);
  const tenant = await stack.tenant(users + OFFLINE, size.rooms, addressOf);
  const offline = {
    ids: tenant.users.slice(users).map((u) => u.id),
    addresses: tenant.users.slice(users).map((_, i) => addressOf(users + i)!),
  };
  const addresses = await stack.addressesOnEveryInstance(tenant.users[0]!.token, size.subscribersPerInstance);
  const load = new Load({
    tenant,
    storedMessages: stack.storedMessages,
    senders: size.senders,
    // REST senders, as issue 25 measures: a WebSocket send in flight when the drain closes its
    // socket (1001, by design) would count as a failed request of the client's own choosing.
    restSendersOnly: true,
    subscribers: addresses.length,
    plainSenders: size.plainSenders,
    readers: size.readers,
    readRate: 5,
    ratePerSender: size.ratePerSender,
    senderTargets: () => [stack.base],
    subscriberTargets: () => [stack.wsBase],
    wsOptions: { ca: stack.ca },
    subscriberWsOptions: (n) => ({ headers: { "x-forwarded-for": addresses[n]! } }),
    fetch: stack.fetch,
    requestTimeoutMs: 10_000,
  });
  try {
    await load.start();
    const instancesAtStart = load.subscriberInstances();
    await sleep(size.beforeMs);
    const liveBefore = stack.releases().live ?? "none";
    const commandStarted = Date.now();
    const retriesBefore = stack.keepAliveRetries.length;
    const [command] = await Promise.all([stack.local(operation.args), meanwhile?.()]);
    await sleep(size.afterMs);
    const report = await load.finish();
    const keepAliveRetries = stack.keepAliveRetries.length - retriesBefore;
    const failures = new Map<string, number>();
    for (const a of load.failedAttempts()) {
      const line =
        `${a.outcome} (${a.kind}) at ${((a.at - commandStarted) / 1000).toFixed(1)} s` +
        `${a.sample ? `: ${a.sample.replace(/\s+/g, " ").trim()}` : ""}`;
      failures.set(line, (failures.get(line) ?? 0) + 1);
    }
    return {
      operation,
      offline,
      rooms: tenant.rooms,
      command,
      liveBefore,
      liveAfter: stack.releases().live ?? "none",
      instancesAtStart,
      report,
      failures: [...failures].map(([line, n]) => (n > 1 ? `${n} × ${line}` : line)),
      keepAliveRetries,
      load: describeSize(size, instances.length),
    };
  } catch (error) {
    load.abort();
    throw error;
  }
}
