// 2. Redis trouble under load, on a private redis-server: the pub/sub connections are killed
// (CLIENT KILL TYPE pubsub), Redis is stalled (SIGSTOP … SIGCONT), then killed and restarted.
// Live subscribers must still get every message exactly once and in order (the service notices
// the gap and catches up from PostgreSQL), and /health/ready must say 503 while Redis is gone.
import type { Load } from "../lib/load";
import type { Instance } from "../../toolbox/processes";
import { sleep } from "../../toolbox/processes";
import { PrivateRedis } from "../../toolbox/private-services";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, readyStatus, result, timeUntil } from "../lib/scenario";
import { Stack } from "../lib/stack";
import { twoInstancesUnderLoad } from "../lib/two-instances";

const meta = { id: "redis-trouble", title: "Redis: pub/sub killed, stalled, restarted" };

/** Polls /health/ready of every instance in the background; counts the polls that saw a 503. */
function watchReady(instances: Instance[]) {
  let running = true;
  let notReady = 0;
  const loop = (async () => {
    while (running) {
      const statuses = await Promise.all(instances.map((i) => readyStatus(i.url)));
      if (statuses.some((s) => s === 503)) notReady++;
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return notReady;
    },
  };
}

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  let redis: PrivateRedis | undefined;
  try {
    redis = await PrivateRedis.start();
    stack = await Stack.create({ redisUrl: redis.url });
    const setup = await twoInstancesUnderLoad(stack, scale);
    const { all, shape } = setup;
    load = setup.load;
    const stallMs = scale === "short" ? 3000 : 6000;
    const downMs = scale === "short" ? 2000 : 5000;
    await load.start();
    const allReady = async () =>
      (await Promise.all(all.map((i) => readyStatus(i.url)))).every((s) => s === 200);
    const recovered = (since: number, ackedBefore: number) =>
      timeUntil(since, async () => (await allReady()) && load!.ackedCount > ackedBefore + shape.senders);
    await sleep(shape.beforeMs);

    // a) The pub/sub connections are cut; the subscriber reconnects and resyncs.
    let watch = watchReady(all);
    let ackedBefore = load.ackedCount;
    let t0 = Date.now();
    const killed = await redis.cli("CLIENT", "KILL", "TYPE", "pubsub");
    const recoveryKill = await recovered(t0, ackedBefore);
    const degradedKill = await watch.stop();
    await sleep(shape.beforeMs);

    // b) Redis stalls: connections stay open, nothing answers.
    watch = watchReady(all);
    ackedBefore = load.ackedCount;
    t0 = Date.now();
    redis.signal("SIGSTOP");
    await sleep(stallMs);
    redis.signal("SIGCONT");
    const recoveryStall = await recovered(t0, ackedBefore);
    const degradedStall = await watch.stop();
    await sleep(shape.beforeMs);

    // c) Redis dies and comes back empty after a while.
    watch = watchReady(all);
    ackedBefore = load.ackedCount;
    t0 = Date.now();
    await redis.kill();
    await sleep(downMs);
    await redis.startProcess();
    const recoveryRestart = await recovered(t0, ackedBefore);
    const degradedRestart = await watch.stop();

    await sleep(shape.afterMs);
    const report = await load.finish();
    const recoveries = [recoveryKill, recoveryStall, recoveryRestart];
    return result(
      {
        ...meta,
        load: describeLoad(shape, 2),
        fault: `CLIENT KILL TYPE pubsub (${killed} connections); SIGSTOP ${stallMs / 1000} s; killed, down ${downMs / 1000} s, restarted`,
      },
      report,
      recoveries.some((r) => r === null) ? null : Math.max(...(recoveries as number[])),
      {
        "recovery pubsub kill ms": recoveryKill ?? "never",
        "recovery stall ms": recoveryStall ?? "never",
        "recovery restart ms": recoveryRestart ?? "never",
        "ready polls with a 503 (kill/stall/restart)": `${degradedKill}/${degradedStall}/${degradedRestart}`,
      },
      [
        check("pub/sub connections were killed", Number(killed) >= 2, `${killed} killed`),
        check("/health/ready was 503 while Redis was stalled", degradedStall > 0, `${degradedStall} polls`),
        check("/health/ready was 503 while Redis was down", degradedRestart > 0, `${degradedRestart} polls`),
        check(
          "REST sends never hung on Redis (no request timed out)",
          (report.outcomes.timeout ?? 0) === 0,
          JSON.stringify(report.outcomes),
        ),
        check(
          "ready again after each fault without a restart",
          recoveries.every((r) => r !== null),
          JSON.stringify(recoveries),
        ),
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stack?.dispose();
    await redis?.dispose();
  }
}
