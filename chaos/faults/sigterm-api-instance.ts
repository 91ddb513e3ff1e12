// 6. SIGTERM one of two API instances under load: requests already in flight are answered,
// its WebSockets close with 1001, clients resume on the other instance, the process exits 0.
import type { Load } from "../lib/load";
import { sleep } from "../../toolbox/processes";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, result, timeUntil } from "../lib/scenario";
import { Stack } from "../lib/stack";
import { twoInstancesUnderLoad } from "../lib/two-instances";

const meta = { id: "sigterm-api-instance", title: "SIGTERM one API instance (graceful stop)" };

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  try {
    stack = await Stack.create();
    let stopping = false;
    const setup = await twoInstancesUnderLoad(stack, scale, {
      sendTo: (i) => i.alive(),
      // A load balancer stops routing to an instance once it is told to stop.
      subscribeTo: (i) => i.alive() && !(stopping && i.name === "api-2"),
    });
    const { b, shape } = setup;
    load = setup.load;
    await load.start();
    const onB = load.subscriberInstances().filter((i) => i === "api-2").length;
    await sleep(shape.beforeMs);
    const ackedBefore = load.ackedCount;
    const t0 = Date.now();
    stopping = true;
    const exitCode = await b.stop("SIGTERM");
    const stoppedMs = Date.now() - t0;
    const recoveryMs = await timeUntil(
      t0,
      async () =>
        load!.allSubscribed() &&
        load!.subscriberInstances().every((i) => i === "api-1") &&
        load!.ackedCount > ackedBefore + shape.senders,
    );
    await sleep(shape.afterMs);
    // Every request api-2 received was answered: refused at connect is fine (nothing was sent),
    // a connection cut after the request went out, or no answer, is not.
    const toB = load.outcomesWhere((x) => x.base === b.url && x.at >= t0);
    const cut = (toB.network ?? 0) + (toB.timeout ?? 0);
    const report = await load.finish();
    const closed1001 = report.closeCodes["1001"] ?? 0;
    return result(
      {
        ...meta,
        load: describeLoad(shape, 2),
        fault: `SIGTERM api-2 at t=${shape.beforeMs / 1000} s (${onB} subscribers on it)`,
      },
      report,
      recoveryMs,
      {
        "exit code": String(exitCode),
        "stop took ms": stoppedMs,
        "closed 1001": closed1001,
        "requests to api-2 after SIGTERM": JSON.stringify(toB),
        ...(load.errorSamples.has("network") ? { "cut request": load.errorSamples.get("network")! } : {}),
      },
      [
        check("api-2 exited 0 after a graceful stop", exitCode === 0, `exit ${exitCode}`),
        check(
          "its sockets were closed with 1001",
          closed1001 >= onB && onB > 0,
          `${closed1001} × 1001 for ${onB} sockets`,
        ),
        check(
          "no request to the stopping instance was cut (answered, or refused at connect)",
          cut === 0,
          JSON.stringify(toB),
        ),
        check("clients resumed on api-1", recoveryMs !== null),
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stack?.dispose();
  }
}
