// 1. SIGKILL one of two API instances under load: senders retry their unacked message (same
// client_msg_id) on the survivor, the killed instance's subscribers reconnect there and
// resubscribe with their last seq. Nothing acked is lost; each message arrives once, in order.
import type { Load } from "../lib/load";
import { type Instance, sleep } from "../../toolbox/processes";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, result, timeUntil } from "../lib/scenario";
import { Stack } from "../lib/stack";
import { twoInstancesUnderLoad } from "../lib/two-instances";

const meta = { id: "kill-api-instance", title: "SIGKILL one API instance" };

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  try {
    stack = await Stack.create();
    const alive = (i: Instance) => i.alive();
    const setup = await twoInstancesUnderLoad(stack, scale, { sendTo: alive, subscribeTo: alive });
    const { a, b, shape } = setup;
    load = setup.load;
    await load.start();
    const onB = load.subscriberInstances().filter((i) => i === "api-2").length;
    await sleep(shape.beforeMs);
    const ackedBefore = load.ackedCount;
    const t0 = Date.now();
    await b.stop("SIGKILL");
    const recoveryMs = await timeUntil(
      t0,
      async () =>
        load!.allSubscribed() &&
        load!.subscriberInstances().every((i) => i === "api-1") &&
        load!.ackedCount > ackedBefore + shape.senders,
    );
    await sleep(shape.afterMs);
    const report = await load.finish();
    return result(
      {
        ...meta,
        load: describeLoad(shape, 2),
        fault: `SIGKILL api-2 at t=${shape.beforeMs / 1000} s (${onB} subscribers on it)`,
      },
      report,
      recoveryMs,
      { "subscribers moved": onB },
      [
        check(
          "subscribers of the killed instance resumed on the survivor",
          recoveryMs !== null && onB > 0,
          `${onB} on api-2`,
        ),
        check("the survivor kept serving", a.alive()),
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stack?.dispose();
  }
}
