// E-mail digests as proof that the workers lost no job and ran none twice: once the pipeline
// settles (outbox empty, no batch open), every message of every room must be in exactly one
// digest of every offline member of that room with an address, and the SMTP sink (Mailpit) must
// hold one mail per sent batch, none twice (a repeated Message-ID is a job run twice).
import { sleep } from "../../toolbox/processes";
import type { ScenarioResult } from "./results";
import { check, timeUntil } from "./scenario";

/** Rows of a query as objects (a pg pool, or psql in a container). */
export type Query = <T>(sql: string) => Promise<T[]>;

/** A batch whose messages were all in an earlier digest is skipped with this detail. */
const SKIPPED_COVERED = "messages are gone or were in an earlier digest";

interface Mail {
  MessageID: string;
  To: { Address: string }[];
}

/** Ids for an IN (...) list: only UUIDs get into the SQL text. */
export function uuidList(ids: string[]): string {
  const bad = ids.find((id) => !/^[0-9a-f-]{36}$/.test(id));
  if (bad !== undefined) throw new Error(`not a UUID: ${bad}`);
  return ids.map((id) => `'${id}'`).join(",");
}

async function mailTo(mailpit: string, address: string): Promise<Mail[]> {
  const query = encodeURIComponent(`to:"${address}"`);
  const response = await fetch(`${mailpit}/api/v1/search?query=${query}&limit=500`);
  if (!response.ok) throw new Error(`mailpit search: ${response.status}`);
  const body = (await response.json()) as { messages: Mail[] };
  return body.messages.filter((m) => m.To.some((t) => t.Address.toLowerCase() === address.toLowerCase()));
}

/** Users with an address who are never connected, and the rooms they are members of. */
export interface OfflineMembers {
  ids: string[];
  addresses: string[];
  /** Every message of these rooms must mail each of these users (and no other room's). */
  rooms: string[];
}

export interface DigestInput {
  query: Query;
  /** One group per tenant: a member is only mailed about the rooms it is in. */
  offline: OfflineMembers[];
  /** Mailpit's HTTP API. */
  mailpit: string;
  settleTimeoutMs?: number;
}

export interface DigestResult {
  extra: Record<string, number | string>;
  checks: ScenarioResult["checks"];
}

export async function checkDigests(input: DigestInput): Promise<DigestResult> {
  const { query } = input;
  const settled = async () => {
    const [row] = await query<{ outbox: number; open: number }>(
      `SELECT (SELECT count(*) FROM outbox) AS outbox,
              (SELECT count(*) FROM notification_batches WHERE status IN ('pending', 'sending')) AS open`,
    );
    return Number(row!.outbox) === 0 && Number(row!.open) === 0;
  };
  const settledMs = await timeUntil(Date.now(), settled, input.settleTimeoutMs ?? 120_000);
  const ids = input.offline.flatMap((g) => g.ids);
  const addresses = input.offline.flatMap((g) => g.addresses);
  const batches = await query<{
    user_id: string;
    room_id: string;
    first_seq: number;
    last_seq: number;
    status: string;
    message_count: number;
    detail: string | null;
  }>(
    `SELECT user_id, room_id, first_seq, last_seq, status, message_count, detail FROM notification_batches
      WHERE user_id IN (${uuidList(ids)}) ORDER BY first_seq`,
  );
  const heads = await query<{ id: string; last_seq: number }>(
    `SELECT id, last_seq FROM rooms WHERE id IN (${uuidList(input.offline.flatMap((g) => g.rooms))})`,
  );
  // The batches' ranges cover every seq, and the digests' message counts (what each really
  // mailed) add up to the room's messages, not more.
  let uncovered = 0;
  let mailedTwice = 0;
  // A batch about a room the member is not in would be mail about someone else's messages.
  let strays = 0;
  for (const group of input.offline) {
    strays += batches.filter((b) => group.ids.includes(b.user_id) && !group.rooms.includes(b.room_id)).length;
    for (const user of group.ids) {
      for (const room of heads.filter((h) => group.rooms.includes(h.id))) {
        const covered = new Set<number>();
        let mailed = 0;
        for (const b of batches.filter((x) => x.user_id === user && x.room_id === room.id)) {
          for (let seq = Number(b.first_seq); seq <= Number(b.last_seq); seq++) covered.add(seq);
          if (b.status === "sent") mailed += Number(b.message_count);
        }
        for (let seq = 1; seq <= Number(room.last_seq); seq++) if (!covered.has(seq)) uncovered++;
        mailedTwice += Math.max(0, mailed - Number(room.last_seq));
      }
    }
  }
  const sentBatches = batches.filter((b) => b.status === "sent").length;
  // Mail arrives in Mailpit a moment after the worker commits: wait for the expected count.
  let mails: Mail[] = [];
  await timeUntil(
    Date.now(),
    async () => {
      mails = (await Promise.all(addresses.map((a) => mailTo(input.mailpit, a)))).flat();
      return mails.length >= sentBatches;
    },
    30_000,
  );
  await sleep(500); // a mail sent twice would arrive now
  mails = (await Promise.all(addresses.map((a) => mailTo(input.mailpit, a)))).flat();
  const messageIds = new Set(mails.map((m) => `${m.To[0]?.Address}|${m.MessageID}`));
  const sentTwice = mails.length - messageIds.size;
  return {
    extra: {
      batches: batches.length,
      "batches skipped (already mailed)": batches.filter((b) => b.detail === SKIPPED_COVERED).length,
      emails: mails.length,
      "emails sent twice": sentTwice,
      "settle ms": settledMs ?? "never",
    },
    checks: [
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
        uncovered === 0 && mailedTwice === 0 && strays === 0,
        `uncovered ${uncovered}, mailed twice ${mailedTwice}, batches about rooms not theirs ${strays}`,
      ),
      check(
        "one e-mail per batch, none sent twice",
        mails.length === sentBatches && sentTwice === 0,
        `${mails.length} mails for ${sentBatches} batches, ${sentTwice} repeated`,
      ),
    ],
  };
}
