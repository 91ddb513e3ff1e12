// The deploy lock (flock): a second holder waits, or with no wait is refused, and either way is
// told who holds it; a holder that dies releases it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LockHeldError, acquireFileLock } from "./file-lock";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const lockFile = () => {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-lock-"));
  dirs.push(dir);
  return join(dir, "deploy.lock");
};

describe("acquireFileLock", () => {
  it("refuses a second holder at once with timeout 0, naming the first", async () => {
    const file = lockFile();
    const first = await acquireFileLock(file, { timeoutMs: 0, purpose: "scripts/local deploy --image a:1" });
    const refused = await acquireFileLock(file, { timeoutMs: 0, purpose: "second" }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused).toBeInstanceOf(LockHeldError);
    expect(refused!.message).toMatch(
      new RegExp(
        `${file} is held by scripts/local deploy --image a:1 \\(pid ${process.pid} on .+, since \\d{4}-`,
      ),
    );
    first.release();
  });

  it("lets a second holder wait, tells it who it waits for, and hands over when the first releases", async () => {
    const file = lockFile();
    const first = await acquireFileLock(file, { timeoutMs: 0, purpose: "first deploy" });
    const waits: string[] = [];
    const second = acquireFileLock(file, {
      timeoutMs: 60_000,
      purpose: "second",
      onWait: (h) => waits.push(h),
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(waits).toEqual([expect.stringMatching(/^first deploy \(pid/)]);
    first.release();
    const lock = await second;
    lock.release();
  });

  it("is released when its holder dies (the flock child's stdin closes with it)", async () => {
    const file = lockFile();
    // As acquireFileLock holds it: flock runs `cat` on the holder's pipe.
    const holder = spawn("flock", ["--exclusive", file, "-c", "echo locked; exec cat"], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    await expect(acquireFileLock(file, { timeoutMs: 0 })).rejects.toBeInstanceOf(LockHeldError);
    holder.stdin.destroy(); // what the end of the holding process does to the pipe
    await new Promise((resolve) => holder.once("exit", resolve));
    const lock = await acquireFileLock(file, { timeoutMs: 10_000 });
    lock.release();
  });
});
