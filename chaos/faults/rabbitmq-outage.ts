// 3. RabbitMQ stopped (a private node) while messages that cause e-mail notifications keep
// coming: offline members with addresses must each get digests that cover every message exactly
// once, no job is lost (the outbox drains, every batch ends `sent`) and no e-mail is sent twice
// after the broker returns (Mailpit: one mail per batch, no repeated Message-ID).
import { randomBytes } from "node:crypto";
import { checkDigests } from "../lib/digests";
import { Load } from "../lib/load";
import { sleep } from "../../toolbox/processes";
import { PrivateRabbit } from "../../toolbox/private-services";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, loadShape, readyStatus, result, timeUntil } from "../lib/scenario";
import { required, Stack } from "../lib/stack";

const meta = { id: "rabbitmq-outage", title: "RabbitMQ stopped while mail-sending work is created" };

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  let rabbit: PrivateRabbit | undefined;
  try {
    rabbit = await PrivateRabbit.start();
    stack = await Stack.create({
      rabbitmqUrl: rabbit.url,
      env: {
        SMTP_HOST: required("CHATAPI_TEST_SMTP_HOST"),
        SMTP_PORT: required("CHATAPI_TEST_SMTP_PORT"),
        EMAILS_FROM_EMAIL: "notifications@chaos.chatapi.test",
        NOTIFICATION_BATCH_SECONDS: "1",
        OUTBOX_POLL_INTERVAL_MS: "100",
        WORKER_RETRY_BASE_SECONDS: "0.5",
      },
    });
    const api = await stack.startInstance("api-1");
    const worker = await stack.startWorker("worker-1");
    const shape = loadShape(scale, 1);
    const offline = scale === "short" ? 3 : 8;
    const downMs = scale === "short" ? 3000 : 8000;
    const subscribers = shape.subscribersPerInstance;
    const tag = randomBytes(4).toString("hex");
    const addresses: string[] = [];
    const tenant = await stack.tenant(api.url, shape.senders + subscribers + offline, shape.rooms, (n) => {
      if (n < shape.senders + subscribers) return undefined;
      const address = `offline-${n}-${tag}@chaos.chatapi.test`;
      addresses.push(address);
      return address;
    });
    const offlineIds = tenant.users.slice(shape.senders + subscribers).map((u) => u.id);
    load = new Load({
      tenant,
      pool: stack.pool,
      senders: shape.senders,
      subscribers,
      ratePerSender: shape.ratePerSender,
      senderTargets: () => [api.url],
      subscriberTargets: () => [api.url.replace("http:", "ws:")],
    });
    await load.start();
    await sleep(shape.beforeMs);
    const t0 = Date.now();
    await rabbit.stopProcess();
    const apiReadyDown = await readyStatus(api.url);
    const workerReadyDown = await readyStatus(worker.url);
    await sleep(downMs);
    const ackedWhileDown = load.ackedCount;
    await rabbit.startProcess();
    const recoveryMs = await timeUntil(
      t0,
      async () => (await readyStatus(api.url)) === 200 && (await readyStatus(worker.url)) === 200,
      120_000,
    );
    await sleep(shape.afterMs);
    const report = await load.finish();

    const digests = await checkDigests({
      query: async <T>(sql: string) => (await stack!.pool.query(sql)).rows as T[],
      offline: [{ ids: offlineIds, addresses, rooms: tenant.rooms }],
      mailpit: required("CHATAPI_TEST_MAILPIT_URL"),
    });
    return result(
      {
        ...meta,
        load: `${describeLoad(shape, 1)}; ${offline} offline members with e-mail, 1 worker`,
        fault: `RabbitMQ node stopped at t=${shape.beforeMs / 1000} s, down ${downMs / 1000} s + its boot, started`,
      },
      report,
      recoveryMs,
      { "acked while broker down": ackedWhileDown, ...digests.extra },
      [
        check(
          "/health/ready 503 on API and worker while RabbitMQ was down",
          apiReadyDown === 503 && workerReadyDown === 503,
          `api ${apiReadyDown}, worker ${workerReadyDown}`,
        ),
        check(
          "sends kept being acked while RabbitMQ was down (outbox)",
          report.outcomes["201"] !== undefined && ackedWhileDown > 0,
        ),
        ...digests.checks,
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stack?.dispose();
    await rabbit?.dispose();
  }
}
