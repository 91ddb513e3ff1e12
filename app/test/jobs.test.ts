// Job plumbing without a broker: retry backoff, the wire format, the notification text.
import type { Message } from "amqplib";
import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../src/jobs/consumer.js";
import { renderDigest } from "../src/jobs/digest-email.js";
import { decodeJob, encodeJob } from "../src/jobs/job.js";

describe("retry backoff", () => {
  it("grows ×4 per attempt from the base and stops at an hour", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(10_000, n))).toEqual([10_000, 40_000, 160_000, 640_000]);
    expect(retryDelayMs(10_000, 12)).toBe(3_600_000);
  });
});

describe("job envelope", () => {
  it("round-trips id, type, payload, creation time and attempt", () => {
    const job = {
      id: "5b7c…",
      type: "message.posted",
      payload: { a: 1 },
      createdAt: 1_700_000_000_123,
      attempt: 2,
    };
    const { content, options } = encodeJob(job);
    expect(options).toMatchObject({ persistent: true, messageId: job.id, type: job.type });
    const message = {
      content,
      properties: { ...options, timestamp: options.timestamp },
      fields: {},
    } as unknown as Message;
    expect(decodeJob(message)).toEqual(job);
  });

  it("rejects what is not a job", () => {
    const message = {
      content: Buffer.from("nope"),
      properties: { headers: {} },
      fields: {},
    } as unknown as Message;
    expect(() => decodeJob(message)).toThrow("not JSON");
  });
});

describe("notification e-mail", () => {
  it("lists the first messages, counts the rest and keeps headers to one line", () => {
    const at = new Date("2026-02-03T04:05:00Z");
    const mail = renderDigest({
      projectName: "ChatAPI",
      recipientName: "Bob",
      roomName: "Team\r\nBcc: evil@example.com",
      messages: [
        { sender: "Alice", body: "hi\nthere", created_at: at },
        { sender: "Carol", body: "x".repeat(600), created_at: at },
      ],
      total: 5,
    });
    expect(mail.subject).toBe("5 new messages in Team Bcc: evil@example.com");
    expect(mail.text).toContain("Alice (2026-02-03 04:05 UTC):\n  hi\n  there");
    expect(mail.text).toContain(`  ${"x".repeat(500)}…`);
    expect(mail.text).toContain("…and 3 more.");
    expect(
      renderDigest({ projectName: "P", recipientName: "B", roomName: "R", messages: [], total: 1 }).subject,
    ).toBe("1 new message in R");
  });
});
