// An exclusive lock held by a `flock` child process (util-linux) for as long as the caller
// needs it: deploys of one stack, or test runs that share one machine-wide thing, take turns.
// The kernel releases it when the holder dies (its flock child's stdin closes and it exits), so
// a crashed run never leaves a stale lock. Beside the lock file, <file>.holder says who holds it,
// so whoever waits (or is refused) is told who and since when.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";

export interface FileLock {
  release: () => void;
}

export interface LockOptions {
  /** 0: refuse at once when held. */
  timeoutMs: number;
  /** What the holder is doing, shown to whoever waits (e.g. "deploy of image chatapi:1.0.1"). */
  purpose?: string;
  /** Called once if the lock is held by someone else and we wait for it. */
  onWait?: (holder: string) => void;
}

export class LockHeldError extends Error {
  override name = "LockHeldError";
}

const holderFile = (file: string) => `${file}.holder`;

/** Who holds (or last held) the lock, in words. */
export function lockHolder(file: string): string {
  if (!existsSync(holderFile(file))) return "another process";
  const h = JSON.parse(readFileSync(holderFile(file), "utf8")) as {
    purpose: string;
    pid: number;
    host: string;
    since: string;
  };
  return `${h.purpose} (pid ${h.pid} on ${h.host}, since ${h.since})`;
}

export function acquireFileLock(file: string, options: LockOptions): Promise<FileLock> {
  mkdirSync(dirname(file), { recursive: true });
  const wait =
    options.timeoutMs > 0 ? ["--timeout", String(Math.ceil(options.timeoutMs / 1000))] : ["--nonblock"];
  // Tell the waiter before blocking: flock prints "locked" only once it holds the lock.
  const child = spawn("flock", ["--exclusive", ...wait, file, "-c", "echo locked; exec cat"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const tell = setTimeout(() => options.onWait?.(lockHolder(file)), 300);
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
      if (!output.includes("locked")) return;
      clearTimeout(tell);
      writeFileSync(
        holderFile(file),
        JSON.stringify({
          purpose: options.purpose ?? "a run",
          pid: process.pid,
          host: hostname(),
          since: new Date().toISOString(),
        }),
      );
      resolve({ release: () => child.stdin.end() });
    });
    child.stderr.on("data", (data: Buffer) => (output += data.toString()));
    child.once("error", (error) => {
      clearTimeout(tell);
      reject(new Error(`flock could not run (util-linux): ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(tell);
      if (output.includes("locked")) return;
      const holder = lockHolder(file);
      reject(
        new LockHeldError(
          options.timeoutMs > 0
            ? `${file} is still held after ${options.timeoutMs / 1000} s by ${holder} (flock exit ${code})`
            : `${file} is held by ${holder}`,
        ),
      );
    });
  });
}
