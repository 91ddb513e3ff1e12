// The deployment four fault scenarios share: two API instances and a Load over both. Senders
// use any instance that `sendTo` allows; subscriber n prefers instance n % 2 and falls back to
// the other one when `subscribeTo` rules its own out (killed, stopping).
import { Load } from "./load";
import type { Instance } from "../../toolbox/processes";
import type { Scale } from "./results";
import { type LoadShape, loadShape } from "./scenario";
import type { Stack, Tenant } from "./stack";

export interface TwoInstances {
  a: Instance;
  b: Instance;
  all: Instance[];
  shape: LoadShape;
  /** The load's users and rooms first, then `extraUsers` and `extraRooms` more. */
  tenant: Tenant;
  /** Not started yet: the caller starts it (and stops it in its cleanup). */
  load: Load;
}

export async function twoInstancesUnderLoad(
  stack: Stack,
  scale: Scale,
  rules: {
    sendTo?: (i: Instance) => boolean;
    subscribeTo?: (i: Instance) => boolean;
    /** Rooms beyond the load's, that no load client follows. */
    extraRooms?: number;
    /** Users beyond the load's, members of every room too. */
    extraUsers?: number;
  } = {},
): Promise<TwoInstances> {
  const { sendTo = () => true, subscribeTo = () => true } = rules;
  const a = await stack.startInstance("api-1");
  const b = await stack.startInstance("api-2");
  const all = [a, b];
  const shape = loadShape(scale, 2);
  const subscribers = shape.subscribersPerInstance * 2;
  const users = shape.senders + subscribers + (rules.extraUsers ?? 0);
  const tenant = await stack.tenant(a.url, users, shape.rooms + (rules.extraRooms ?? 0));
  const load = new Load({
    tenant: { ...tenant, rooms: tenant.rooms.slice(0, shape.rooms) },
    pool: stack.pool,
    senders: shape.senders,
    subscribers,
    ratePerSender: shape.ratePerSender,
    senderTargets: () => all.filter(sendTo).map((i) => i.url),
    subscriberTargets: (n) =>
      [all[n % 2]!, all[(n + 1) % 2]!].filter(subscribeTo).map((i) => i.url.replace("http:", "ws:")),
  });
  return { a, b, all, shape, tenant, load };
}
