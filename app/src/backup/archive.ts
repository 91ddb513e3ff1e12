// Writing, verifying and checksumming a backup archive.
//   plain-gz: `pg_dump --format=plain` gzipped as it streams; verified by decompressing all of
//             it and finding pg_dump's closing line (a truncated or damaged file has neither).
//   custom:   `pg_dump --format=custom`; verified by pg_restore reading its table of contents
//             and every data block (`pg_restore --file=/dev/null`).
// Owners and privileges are left out (`--no-owner --no-privileges`) so a backup restores under
// whatever role the target deployment uses.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { BackupFormat } from "./names.js";
import { CHECKSUM_SUFFIX } from "./names.js";
import { runTool } from "./pg-tools.js";

export const DUMP_COMPLETE_MARKER = "-- PostgreSQL database dump complete";

export class CorruptBackupError extends Error {
  override name = "CorruptBackupError";
}

export async function dumpDatabase(
  path: string,
  format: BackupFormat,
  pgEnv: Record<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  const common = ["--no-owner", "--no-privileges"];
  if (format === "custom") {
    const run = runTool("pg_dump", ["--format=custom", ...common, `--file=${path}`], {
      pgEnv,
      stdout: "ignore",
      ...(signal ? { signal } : {}),
    });
    await run.done;
    return;
  }
  const run = runTool("pg_dump", ["--format=plain", ...common], { pgEnv, ...(signal ? { signal } : {}) });
  await Promise.all([
    run.done,
    pipeline(run.child.stdout!, createGzip({ level: 6 }), createWriteStream(path, { mode: 0o600 })),
  ]);
}

/** Reads the whole archive once: its sha256 and a structural check. Throws CorruptBackupError. */
export async function verifyArchive(path: string, format: BackupFormat): Promise<string> {
  if (format === "custom") {
    const [digest] = await Promise.all([sha256File(path), checkCustomArchive(path)]);
    return digest;
  }
  const hash = createHash("sha256");
  let tail = "";
  const tap = new PassThrough();
  tap.on("data", (chunk: Buffer) => hash.update(chunk));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tail = (tail + chunk.toString("latin1")).slice(-4096);
      callback();
    },
  });
  try {
    await pipeline(createReadStream(path), tap, createGunzip(), sink);
  } catch (error) {
    throw new CorruptBackupError(`${basename(path)} does not decompress: ${(error as Error).message}`);
  }
  if (!tail.includes(DUMP_COMPLETE_MARKER)) {
    throw new CorruptBackupError(`${basename(path)} is incomplete: pg_dump's closing line is missing`);
  }
  return hash.digest("hex");
}

async function checkCustomArchive(path: string): Promise<void> {
  try {
    await runTool("pg_restore", ["--list", path], { pgEnv: {}, stdout: "ignore" }).done;
    await runTool("pg_restore", ["--file=/dev/null", path], { pgEnv: {}, stdout: "ignore" }).done;
  } catch (error) {
    throw new CorruptBackupError(
      `${basename(path)} is not a readable pg_dump archive: ${(error as Error).message}`,
    );
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** Writes `<file>.sha256` in sha256sum's format (so `sha256sum -c` checks it too). */
export async function writeChecksum(path: string, digest: string): Promise<string> {
  const target = path + CHECKSUM_SUFFIX;
  const temporary = `${target}.partial`;
  await writeFile(temporary, `${digest}  ${basename(path)}\n`, { mode: 0o644 });
  await rename(temporary, target);
  return target;
}

/** The digest recorded in a checksum file (or undefined when it has none). */
export async function readChecksum(checksumPath: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(checksumPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const match = /^([0-9a-f]{64})\b/i.exec(text.trim());
  if (!match) throw new CorruptBackupError(`${basename(checksumPath)} does not hold a sha256 digest`);
  return match[1]!.toLowerCase();
}

/** Reads the first bytes to tell the format: gzip, pg_dump custom ("PGDMP") or plain SQL. */
export async function detectFormat(path: string): Promise<BackupFormat | "plain"> {
  const handle = createReadStream(path, { start: 0, end: 4 });
  const chunks: Buffer[] = [];
  for await (const chunk of handle) chunks.push(chunk as Buffer);
  const head = Buffer.concat(chunks);
  if (head[0] === 0x1f && head[1] === 0x8b) return "plain-gz";
  if (head.toString("latin1") === "PGDMP") return "custom";
  const printable = (byte: number) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127);
  if (head.length > 0 && [...head].every(printable)) return "plain";
  throw new CorruptBackupError(`${basename(path)} is neither a gzipped SQL dump nor a pg_dump archive`);
}
