// 4. PostgreSQL restarted under load (a private cluster: pg_ctl stop -m fast, down a few
// seconds, start). While it is down requests must fail with 503 and a clear error (never 500),
// nothing acked may be missing and nothing stored twice (senders retry the same client_msg_id),
// and the instances must serve again by themselves, without a restart.
import type { Load } from "../lib/load";
import { sleep } from "../../toolbox/processes";
import { PrivatePostgres } from "../../toolbox/private-services";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, readyStatus, result, timeUntil } from "../lib/scenario";
import { Stack } from "../lib/stack";
import { twoInstancesUnderLoad } from "../lib/two-instances";

const meta = { id: "postgres-restart", title: "PostgreSQL restarted" };

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  let postgres: PrivatePostgres | undefined;
  try {
    postgres = await PrivatePostgres.start();
    stack = await Stack.create({ adminDatabaseUrl: postgres.adminUrl });
    const setup = await twoInstancesUnderLoad(stack, scale);
    const { all, shape } = setup;
    load = setup.load;
    const pids = all.map((i) => i.pid);
    const downMs = scale === "short" ? 3000 : 8000;
    await load.start();
    await sleep(shape.beforeMs);
    const ackedBefore = load.ackedCount;
    const t0 = Date.now();
    await postgres.stopProcess();
    const readyWhileDown = await Promise.all(all.map((i) => readyStatus(i.url)));
    await sleep(downMs);
    await postgres.startProcess();
    const recoveryMs = await timeUntil(
      t0,
      async () =>
        (await Promise.all(all.map((i) => readyStatus(i.url)))).every((s) => s === 200) &&
        load!.ackedCount > ackedBefore + shape.senders,
    );
    await sleep(shape.afterMs);
    const duringOutage = load.outcomesWhere((x) => x.startedAt >= t0 && x.startedAt < t0 + downMs);
    const report = await load.finish();
    const sample503 = load.errorSamples.get("503") ?? "";
    let code503 = "";
    try {
      code503 = (JSON.parse(sample503) as { error: { code: string } }).error.code;
    } catch {
      code503 = "";
    }
    return result(
      {
        ...meta,
        load: describeLoad(shape, 2),
        fault: `pg_ctl stop -m fast at t=${shape.beforeMs / 1000} s, down ${downMs / 1000} s, start`,
      },
      report,
      recoveryMs,
      {
        "503": report.outcomes["503"] ?? 0,
        "500": report.outcomes["500"] ?? 0,
        "503 error code": code503 || "-",
        "responses during outage": JSON.stringify(duringOutage),
      },
      [
        check(
          "/health/ready was 503 while PostgreSQL was down",
          readyWhileDown.every((s) => s === 503),
          JSON.stringify(readyWhileDown),
        ),
        check(
          "sends during the outage got 503 with an error code",
          (report.outcomes["503"] ?? 0) > 0 && code503 !== "",
          sample503,
        ),
        check("no 500 at all", (report.outcomes["500"] ?? 0) === 0, JSON.stringify(report.outcomes)),
        check(
          "instances recovered without a restart",
          recoveryMs !== null && all.every((i, n) => i.alive() && i.pid === pids[n]),
        ),
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stack?.dispose();
    await postgres?.dispose();
  }
}
