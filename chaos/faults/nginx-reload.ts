// 5. nginx (the toolkit's rendered nginx.conf, in the real nginx on loopback) reloaded several
// times while many WebSockets go through it: old workers must not keep connections forever;
// clients whose connection drops reconnect with exponential backoff and full jitter and resume
// with after_seq; nothing is lost or duplicated. The jitter is judged by when reconnections
// reached the servers, not by the delays the clients drew.
import { execFile } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildPlan } from "../../components/plan/build-plan";
import { loadStackConfig } from "../../components/config/load";
import { readStackFile } from "../../components/config/stack-file";
import { type LoopbackNginx, startNginx, stop, writeLoopbackConfig } from "../../test/support/nginx";
import { makeCertificate } from "../../test/support/tls-fixture";
import { Load } from "../lib/load";
import { freePort, ROOT, sleep } from "../../toolbox/processes";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, loadShape, result, timeUntil } from "../lib/scenario";
import { Stack } from "../lib/stack";

const run_ = promisify(execFile);
const meta = { id: "nginx-reload", title: "nginx reloaded under many WebSockets" };

/** nginx workers of a master: [running, shutting down]. */
async function workers(master: ChildProcess): Promise<[number, number]> {
  const { stdout } = await run_("ps", ["--ppid", String(master.pid), "-o", "args="]).catch(() => ({
    stdout: "",
  }));
  const lines = stdout.split("\n").filter((l) => l.includes("worker process"));
  const closing = lines.filter((l) => l.includes("shutting down")).length;
  return [lines.length - closing, closing];
}

/**
 * How bunched the reconnections were where it matters, at the servers: when each `ready` frame
 * arrived (on loopback, the moment a server accepted it), the most in any 50 ms. Clients all cut
 * at once by an old worker's shutdown that reconnect without jitter land in one window.
 */
function arrivalSpread(arrivals: number[]): { peak: number; total: number } {
  let peak = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while (arrivals[i]! - arrivals[j]! >= 50) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return { peak, total: arrivals.length };
}

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  let nginxProcess: ChildProcess | undefined;
  const work = mkdtempSync(join(tmpdir(), "chatapi-chaos-nginx-"));
  try {
    stack = await Stack.create();
    const a = await stack.startInstance("api-1");
    const b = await stack.startInstance("api-2");
    const shape = loadShape(scale, 2);
    const sockets = scale === "short" ? 40 : 200;
    const reloads = scale === "short" ? 2 : 5;
    const tls = makeCertificate("localhost");
    const file = readStackFile(ROOT, "local");
    const plan = buildPlan({
      config: loadStackConfig({ stack: "local", ...file, appVersion: "1.0.0" }),
      appVersion: "1.0.0",
    });
    const nginx: LoopbackNginx = await writeLoopbackConfig(plan.loadBalancer, join(work, "nginx"), {
      http: await freePort(),
      https: await freePort(),
      upstreams: [a, b].map((i) => ({ host: "127.0.0.1", port: i.port })),
      tls,
    });
    nginxProcess = await startNginx(nginx);
    const master = nginxProcess;
    const tenant = await stack.tenant(a.url, shape.senders + sockets, shape.rooms);
    load = new Load({
      tenant,
      pool: stack.pool,
      senders: shape.senders,
      subscribers: sockets,
      ratePerSender: shape.ratePerSender,
      senderTargets: () => [a.url, b.url],
      subscriberTargets: () => [`wss://127.0.0.1:${nginx.https}`],
      wsOptions: { ca: tls.certificate, servername: "localhost" },
      // Many clients, many addresses: nginx limits upgrades per address.
      distinctAddresses: true,
    });
    await load.start();
    const [baseline] = await workers(master);
    await sleep(shape.beforeMs);
    const t0 = Date.now();
    let lingering = 0;
    for (let n = 0; n < reloads; n++) {
      master.kill("SIGHUP"); // what `nginx -s reload` sends
      await sleep(scale === "short" ? 1500 : 3000);
      lingering = Math.max(lingering, (await workers(master))[1]);
    }
    const lastReload = Date.now();
    // Recovered: the old workers are gone and every client is subscribed again.
    const recoveryAfterLast = await timeUntil(
      lastReload,
      async () => {
        const [running, closing] = await workers(master);
        return running === baseline && closing === 0 && load!.allSubscribed();
      },
      90_000,
    );
    const [, closingAtEnd] = await workers(master);
    await sleep(shape.afterMs);
    const report = await load.finish();
    const spread = arrivalSpread(load.reconnectArrivals());
    return result(
      {
        ...meta,
        load: `${shape.senders} senders (REST and WebSocket with client_msg_id, REST without) × ${shape.rooms} rooms at ${shape.senders * shape.ratePerSender} msg/s, ${sockets} WebSockets from ${sockets} addresses through nginx to 2 instances, one removed from a room under load`,
        fault: `${reloads} reloads (SIGHUP) ${scale === "short" ? 1.5 : 3} s apart`,
      },
      report,
      recoveryAfterLast === null ? null : lastReload - t0 + recoveryAfterLast,
      {
        "old workers shutting down (max)": lingering,
        "old workers left at the end": closingAtEnd,
        "reconnects in the busiest 50 ms": `${spread.peak} of ${spread.total}`,
      },
      [
        check(
          "old nginx workers finished (no connection held forever)",
          recoveryAfterLast !== null && closingAtEnd === 0,
          `${closingAtEnd} still shutting down`,
        ),
        check(
          "dropped clients reconnected and resubscribed",
          report.reconnects >= sockets,
          `${report.reconnects} reconnects for ${sockets} sockets`,
        ),
        check(
          "reconnects reach the servers spread out (the busiest 50 ms holds under half of them)",
          spread.total >= sockets && spread.peak < spread.total / 2,
          `${spread.peak} of ${spread.total} in the busiest 50 ms`,
        ),
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stop(nginxProcess);
    await stack?.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}
