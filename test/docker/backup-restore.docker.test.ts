// Backups on a running Docker stack, as an operator meets them (issue 26, point 1): the backup
// container writes its own volume as its non-root user (the volume starts as a copy of the image's
// /backups, owned by uid 10001); a folder it cannot write, or a failed run, is visible at once
// (health check, `scripts/local status` exit 1 with the reason, the failure metric);
// `scripts/local backup` writes a verified backup into the volume and a real S3 server; a fresh
// stack gets every message back, with its seq, from `scripts/local restore FILE` and from
// `scripts/local restore s3://...`. Prints the figures (times, sizes, counts).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateS3 } from "../../toolbox/private-services";
import { docker, run } from "../../toolbox/exec";
import { stackContainers } from "../../scripts/lib/stack-health";
import type { StackClient } from "../../toolbox/stack-client";
import { type Conversation, readConversation, tokenFor, writeConversation } from "../support/conversation";
import { waitFor } from "../../toolbox/processes";
import { instanceContainer } from "../support/local-stack";
import { TestStack } from "../support/test-stack";
import { dockerBridgeAddress } from "../../toolbox/docker-bridge";

const MESSAGES = 40;
const BUCKET = "chatapi-backups";
const figures: Record<string, string> = {};
let s3: PrivateS3;
let source: TestStack;
let fresh: TestStack;
let conversation: Conversation;
let backupFile = "";
let s3Key = "";
const scratch = mkdtempSync(join(tmpdir(), "chatapi-backup-test-"));

const s3Settings = () => [
  `backup.s3.bucket=${BUCKET}`,
  "backup.s3.prefix=stacks/",
  `backup.s3.endpoint=${s3.endpoint}`,
  "backup.s3.region=us-east-1",
  "backup.s3.forcePathStyle=true",
];

async function withS3(tag: string): Promise<TestStack> {
  const stack = await TestStack.create(tag, s3Settings());
  stack.setSecret("backupS3AccessKeyId", s3.accessKeyId);
  stack.setSecret("backupS3SecretAccessKey", s3.secretAccessKey);
  return stack;
}

const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const result = await work();
  figures[name] = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  return result;
};

async function backupHealth(stack: TestStack): Promise<string | undefined> {
  return (await stackContainers(stack.name)).find((c) => c.role === "backup")?.health;
}

/** The backup scheduler's container (it belongs to the live release: its name carries the release id). */
const backupContainer = (stack: TestStack) => instanceContainer(stack.name, "backup");

/** The backup scheduler's metrics, read inside its container (the port is not published). */
async function backupMetric(stack: TestStack, name: string): Promise<number | undefined> {
  const text = await docker(
    "exec",
    await backupContainer(stack),
    "node",
    "-e",
    "fetch('http://127.0.0.1:9000/metrics').then(r => r.text()).then(t => process.stdout.write(t))",
  );
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : undefined;
}

beforeAll(async () => {
  s3 = await PrivateS3.start(await dockerBridgeAddress());
  await s3.createBucket(BUCKET);
  source = await withS3("bk");
  fresh = await withS3("bkfresh");
  const up = await timed("stack up (source)", () => source.upOrThrow());
  expect(up.all).toContain("smoke check passed");
}, 1_200_000);

afterAll(async () => {
  for (const stack of [source, fresh]) if (stack) await stack.remove();
  await s3?.stop();
  rmSync(scratch, { recursive: true, force: true });
  console.log(
    `backup/restore figures:\n${Object.entries(figures)
      .map(([k, v]) => `  ${k.padEnd(44)} ${v}`)
      .join("\n")}`,
  );
}, 600_000);

describe("backups on a running Docker stack (scripts/local backup / restore)", () => {
  it("the backup container is healthy: its volume belongs to uid 10001 and the process writes it", async () => {
    expect(await backupHealth(source)).toBe("healthy");
    const owner = await docker("exec", await backupContainer(source), "stat", "-c", "%u:%g %a", "/backups");
    expect(owner).toBe("10001:10001 750");
    const who = await docker("exec", await backupContainer(source), "id", "-u");
    expect(who).toBe("10001");
  });

  it("a volume it cannot write is visible at once: unhealthy, scripts/local status exits 1 with the reason", async () => {
    const mountpoint = await docker("volume", "inspect", "-f", "{{.Mountpoint}}", `${source.prefix}-backups`);
    const { uid, gid } = statSync(mountpoint);
    // What every Docker stack had before the fix: a backups volume owned by root.
    await run("chown", ["0:0", mountpoint]);
    try {
      await waitFor(
        "the backup container to turn unhealthy",
        async () => (await backupHealth(source)) === "unhealthy",
        60_000,
      );
      const status = await source.local("status");
      expect(status.exitCode, status.all).toBe(1);
      expect(status.stdout).toMatch(
        new RegExp(
          `${source.prefix}-backup-[0-9a-f]{8}\\S*\\s+running \\(unhealthy\\).*BACKUP_DIR /backups is not writable by uid 10001 \\(EACCES\\)`,
        ),
      );
      const failed = await source.local("backup");
      expect(failed.exitCode, failed.all).toBe(1);
      expect(failed.all).toMatch(/EACCES|permission denied/i);
    } finally {
      await run("chown", [`${uid}:${gid}`, mountpoint]);
    }
    await waitFor(
      "the backup container to be healthy again",
      async () => (await backupHealth(source)) === "healthy",
      60_000,
    );
  });

  it("a failed run is visible: unhealthy with when and why, status exit 1, the failure metric", async () => {
    await docker("stop", `${source.prefix}-postgres`);
    try {
      const failed = await source.local("backup");
      expect(failed.exitCode, failed.all).toBe(1);
      let status = await source.local("status");
      await waitFor(
        "the health check to report the failed run",
        async () =>
          /-backup-[0-9a-f]{8}\S*\s+running \(unhealthy\).*the last backup run failed at .* \(exit 1\)/.test(
            (status = await source.local("status")).stdout,
          ),
        60_000,
      );
      expect(status.exitCode).toBe(1);
      expect(await backupMetric(source, "chatapi_backup_last_failure_timestamp_seconds")).toBeGreaterThan(
        Date.now() / 1000 - 120,
      );
    } finally {
      await docker("start", `${source.prefix}-postgres`);
    }
    await waitFor(
      "PostgreSQL to be healthy again",
      async () =>
        (await stackContainers(source.name)).find((c) => c.role === "postgres")?.health === "healthy",
      120_000,
    );
  });

  it("scripts/local backup writes a verified backup into the volume and the S3 bucket, and the container is healthy again", async () => {
    const chat = source.chat();
    try {
      conversation = await timed(`write ${MESSAGES} messages`, () =>
        writeConversation(chat, source.adminKey(), MESSAGES),
      );
    } finally {
      chat.close();
    }
    expect(conversation.messages.map((m) => m.seq)).toEqual(
      Array.from({ length: MESSAGES }, (_, i) => i + 1),
    );
    const result = await timed("scripts/local backup", () => source.local("backup"));
    expect(result.exitCode, result.all).toBe(0);
    const done =
      /backup done in ([\d.]+) s: (\/backups\/chatapi_backup_\d{8}_\d{6}\.sql\.gz) \((\d+) bytes\), uploaded to (s3:\/\/\S+)/.exec(
        result.stdout,
      );
    expect(done, result.stdout).not.toBeNull();
    backupFile = done![2]!;
    figures["backup size"] = `${done![3]} bytes`;
    figures["backup (chatapi backup, as it reports)"] = `${done![1]} s`;
    const listing = await docker("exec", await backupContainer(source), "ls", "/backups");
    expect(listing.split("\n")).toEqual(
      expect.arrayContaining([backupFile.slice(9), `${backupFile.slice(9)}.sha256`]),
    );
    const client = s3.client();
    try {
      const objects = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "stacks/" }));
      const keys = (objects.Contents ?? []).map((o) => o.Key);
      expect(keys).toEqual(
        expect.arrayContaining([`stacks/${backupFile.slice(9)}`, `stacks/${backupFile.slice(9)}.sha256`]),
      );
    } finally {
      client.destroy();
    }
    s3Key = done![4]!;
    expect(s3Key).toBe(`s3://${BUCKET}/stacks/${backupFile.slice(9)}`);
    await waitFor(
      "the backup container to be healthy again",
      async () => (await backupHealth(source)) === "healthy",
      60_000,
    );
    expect((await source.local("status")).exitCode).toBe(0);
    expect(await backupMetric(source, "chatapi_backup_last_success_timestamp_seconds")).toBeGreaterThan(
      Date.now() / 1000 - 300,
    );
  });

  it("a fresh stack gets every message and seq back from scripts/local restore FILE (a copy of the backup on this machine)", async () => {
    await timed("stack up (fresh)", () => fresh.upOrThrow());
    // The operator copies the backup (and its checksum) off the old host.
    for (const file of [backupFile, `${backupFile}.sha256`])
      await docker("cp", `${await backupContainer(source)}:${file}`, join(scratch, file.slice(9)));
    const local = join(scratch, backupFile.slice(9));
    // The fresh stack already has its schema and admin client: refused unless forced, nothing changed.
    const refused = await fresh.local("restore", [local]);
    expect(refused.exitCode, refused.all).toBe(4);
    expect(refused.all).toContain("the database is not empty (pass --force to replace it)");
    const restored = await timed("scripts/local restore FILE --force", () =>
      fresh.local("restore", [local, "--force"]),
    );
    expect(restored.exitCode, restored.all).toBe(0);
    expect(restored.stdout).toMatch(/checksum verified/);
    expect(restored.stdout).toMatch(/restore done in [\d.]+ s \(3 writers stopped and started again\)/);
    figures["chatapi restore FILE (its own time)"] = restoreSeconds(restored.stdout);
    await expectConversation(fresh, "FILE");
  });

  it("... and from scripts/local restore s3://bucket/key, after new writes (they are replaced by the backup)", async () => {
    const chat = fresh.chat();
    try {
      const token = await tokenFor(chat, conversation.clientKey, conversation.aliceId);
      // With a client_msg_id, as a client does, so a send cut by nginx's graceful reload at the end
      // of the last restore (a kept-alive connection to an old worker) can be sent again.
      const send = () =>
        chat.api<{ seq: number }>(
          "POST",
          `/rooms/${conversation.roomId}/messages`,
          { token },
          { body: "written after the restore", client_msg_id: "after-the-restore" },
        );
      const after = await send().catch((error: Error) => {
        if (!/socket hang up|ECONNRESET/.test(error.message)) throw error;
        return send();
      });
      expect(after.seq).toBe(MESSAGES + 1); // the room's sequence continues where the backup left it
    } finally {
      chat.close();
    }
    const restored = await timed("scripts/local restore s3://... --force", () =>
      fresh.local("restore", [s3Key, "--force"]),
    );
    expect(restored.exitCode, restored.all).toBe(0);
    expect(restored.stdout).toMatch(/downloading the backup from S3/);
    figures["chatapi restore s3:// (its own time)"] = restoreSeconds(restored.stdout);
    await expectConversation(fresh, "s3://");
  });
});

/** The restore's own time, as `chatapi restore` logs it (without stopping and starting the writers). */
function restoreSeconds(output: string): string {
  const ms = /restore complete \(.*duration_ms=(\d+)/.exec(output)?.[1];
  return ms ? `${(Number(ms) / 1000).toFixed(1)} s` : "?";
}

async function expectConversation(stack: TestStack, how: string): Promise<void> {
  const chat: StackClient = stack.chat();
  try {
    const read = await readConversation(chat, conversation);
    expect(read).toEqual(conversation.messages);
    figures[`messages back (${how})`] =
      `${read.length} of ${conversation.messages.length}, seqs ${read[0]?.seq}..${read.at(-1)?.seq}`;
  } finally {
    chat.close();
  }
}
