// 3. RabbitMQ stopped (a private node) while messages that cause e-mail notifications keep
// coming: offline members with addresses must each get digests that cover every message exactly
// once, no job is lost (the outbox drains, every batch ends `sent`) and no e-mail is sent twice
// after the broker returns (Mailpit: one mail per batch, no repeated Message-ID).
import { randomBytes } from "node:crypto";
import { Load } from "../lib/load";
import { sleep } from "../lib/processes";
import { PrivateRabbit } from "../lib/private-services";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, loadShape, readyStatus, result, timeUntil } from "../lib/scenario";
import { required, Stack } from "../lib/stack";

const meta = { id: "rabbitmq-outage", title: "RabbitMQ stopped while mail-sending work is created" };

/** A batch whose messages were all in an earlier digest is skipped with this detail. */
const SKIPPED_COVERED = "messages are gone or were in an earlier digest";

interface Mail {
  MessageID: string;
  To: { Address: string }[];
}

async function mailTo(address: string): Promise<Mail[]> {
  const query = encodeURIComponent(`to:"${address}"`);
  const response = await fetch(
    `${required("CHATAPI_TEST_MAILPIT_URL")}/api/v1/search?query=${query}&limit=500`,
  );
  if (!response.ok) throw new Error(`mailpit search: ${response.status}`);
  const body = (await response.json()) as { messages: Mail[] };
  return body.messages.filter((m) => m.To.some((t) => t.Address.toLowerCase() === address.toLowerCase()));
}

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

    // Wait (bounded) for the pipeline to settle: outbox empty, no batch left open.
    const settled = async () => {
      const { rows } = await stack!.pool.query<{ outbox: string; open: string }>(
        `SELECT (SELECT count(*) FROM outbox) AS outbox,
                (SELECT count(*) FROM notification_batches WHERE status IN ('pending', 'sending')) AS open`,
      );
      return Number(rows[0]!.outbox) === 0 && Number(rows[0]!.open) === 0;
    };
    const settledMs = await timeUntil(Date.now(), settled, 120_000);
    const { rows: batches } = await stack.pool.query<{
      user_id: string;
      room_id: string;
      first_seq: string;
      last_seq: string;
      status: string;
      message_count: number;
      detail: string | null;
    }>(
      "SELECT user_id, room_id, first_seq, last_seq, status, message_count, detail FROM notification_batches WHERE user_id = ANY($1::uuid[]) ORDER BY first_seq",
      [offlineIds],
    );
    const { rows: heads } = await stack.pool.query<{ id: string; last_seq: string }>(
      "SELECT id, last_seq FROM rooms WHERE id = ANY($1::uuid[])",
      [tenant.rooms],
    );
    // Every message of every room is in exactly one digest of every offline member: the batches'
    // ranges cover every seq, and the digests' message counts (what each really mailed) add up to
    // the room's messages, not more.
    let uncovered = 0;
    let mailedTwice = 0;
    for (const user of offlineIds) {
      for (const room of heads) {
        const covered = new Set<number>();
        let mailed = 0;
        for (const b of batches.filter((x) => x.user_id === user && x.room_id === room.id)) {
          for (let seq = Number(b.first_seq); seq <= Number(b.last_seq); seq++) covered.add(seq);
          if (b.status === "sent") mailed += b.message_count;
        }
        for (let seq = 1; seq <= Number(room.last_seq); seq++) if (!covered.has(seq)) uncovered++;
        mailedTwice += Math.max(0, mailed - Number(room.last_seq));
      }
    }
    const sentBatches = batches.filter((b) => b.status === "sent").length;
    // Mail arrives in Mailpit a moment after the worker commits: wait for the expected count.
    let mails: Mail[] = [];
    await timeUntil(
      Date.now(),
      async () => {
        mails = (await Promise.all(addresses.map(mailTo))).flat();
        return mails.length >= sentBatches;
      },
      30_000,
    );
    const messageIds = new Set(mails.map((m) => `${m.To[0]?.Address}|${m.MessageID}`));
    const sentTwice = mails.length - messageIds.size;
    return result(
      {
        ...meta,
        load: `${describeLoad(shape, 1)}; ${offline} offline members with e-mail, 1 worker`,
        fault: `RabbitMQ node stopped at t=${shape.beforeMs / 1000} s, down ${downMs / 1000} s + its boot, started`,
      },
      report,
      recoveryMs,
      {
        "acked while broker down": ackedWhileDown,
        batches: batches.length,
        "batches skipped (already mailed)": batches.filter((b) => b.detail === SKIPPED_COVERED).length,
        emails: mails.length,
        "emails sent twice": sentTwice,
        "settle ms": settledMs ?? "never",
      },
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
        check(
          "no job lost: outbox drained and every batch finished",
          settledMs !== null,
          settledMs === null ? "outbox or batches still open" : undefined,
        ),
        check(
          "every batch was mailed (or held only messages an earlier digest had)",
          batches.length > 0 && batches.every((b) => b.status === "sent" || b.detail === SKIPPED_COVERED),
          `${sentBatches}/${batches.length} sent`,
        ),
        check(
          "every message in exactly one digest per offline member",
          uncovered === 0 && mailedTwice === 0,
          `uncovered ${uncovered}, mailed twice ${mailedTwice}`,
        ),
        check(
          "one e-mail per batch, none sent twice",
          mails.length === sentBatches && sentTwice === 0,
          `${mails.length} mails for ${sentBatches} batches, ${sentTwice} repeated`,
        ),
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
