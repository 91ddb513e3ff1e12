// The SMTP sink's HTTP API (Mailpit). Tests find their mail by a recipient address unique to
// the test and never delete anybody's mail.
import { required } from "./services.js";

export interface MailSummary {
  ID: string;
  MessageID: string;
  From: { Name: string; Address: string };
  To: Array<{ Name: string; Address: string }>;
  Subject: string;
}

export interface MailDetail extends MailSummary {
  Text: string;
}

const api = () => required("CHATAPI_TEST_MAILPIT_URL");

export async function mailTo(address: string): Promise<MailSummary[]> {
  const query = encodeURIComponent(`to:"${address}"`);
  const response = await fetch(`${api()}/api/v1/search?query=${query}&limit=200`);
  if (!response.ok) throw new Error(`mailpit search: ${response.status}`);
  const body = (await response.json()) as { messages: MailSummary[] };
  // The search is by substring; keep exact recipients only.
  return body.messages.filter((m) => m.To.some((t) => t.Address.toLowerCase() === address.toLowerCase()));
}

export async function mailDetail(id: string): Promise<MailDetail> {
  const response = await fetch(`${api()}/api/v1/message/${id}`);
  if (!response.ok) throw new Error(`mailpit message ${id}: ${response.status}`);
  return (await response.json()) as MailDetail;
}

/** Waits until `address` has at least `count` mails; returns them (bounded wait). */
export async function waitForMail(address: string, count = 1, timeoutMs = 30_000): Promise<MailSummary[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = await mailTo(address);
    if (mails.length >= count) return mails;
    if (Date.now() > deadline) {
      throw new Error(`expected ${count} mail(s) to ${address} within ${timeoutMs} ms, got ${mails.length}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
