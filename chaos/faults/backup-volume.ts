// 7. The backup volume fills up, then turns read-only (a small private tmpfs, remounted), while
// the API keeps serving: `chatapi backup` must fail loudly (non-zero exit, an error log line),
// leave no partial file, keep the earlier backups, and retention must never delete the last good
// backup (here an expired one: older than BACKUP_RETENTION_DAYS). Once the volume is fixed the
// next run succeeds and only then prunes the expired backup.
import { execFile } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Load } from "../lib/load";
import { type CliResult, runCli, sleep } from "../../toolbox/processes";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, loadShape, result } from "../lib/scenario";
import { Stack } from "../lib/stack";

const run_ = promisify(execFile);
const meta = { id: "backup-volume", title: "Backup volume full, then read-only" };
const OLD_NAME = "chatapi_backup_20200101_000000.sql.gz";

/** Fills the file system until it refuses more (ENOSPC). */
function fill(dir: string): number {
  const fd = openSync(join(dir, "filler"), "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return written;
}

const backups = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.startsWith("chatapi_backup_"))
    .sort();
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.includes(".partial"));

/** An error-level JSON log line (pino: level 50+) in the command's output. */
function errorLine(result: CliResult): string {
  for (const line of `${result.stdout}\n${result.stderr}`.split("\n")) {
    try {
      const entry = JSON.parse(line) as { level?: number | string; msg?: string; err?: unknown };
      if (
        (typeof entry.level === "number" && entry.level >= 50) ||
        entry.level === "error" ||
        entry.level === "fatal"
      ) {
        return `${entry.msg ?? ""} ${JSON.stringify(entry.err ?? "")}`.slice(0, 300);
      }
    } catch {
      // not JSON
    }
  }
  return "";
}

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  const dir = mkdtempSync(join(tmpdir(), "chatapi-chaos-backups-"));
  let mounted = false;
  try {
    if (userInfo().uid !== 0)
      throw new Error("the backup-volume scenario mounts a tmpfs: run it as root (CI does)");
    await run_("mount", ["-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir]);
    mounted = true;
    stack = await Stack.create();
    const api = await stack.startInstance("api-1");
    const shape = loadShape(scale, 1);
    const tenant = await stack.tenant(api.url, shape.senders + shape.subscribersPerInstance, shape.rooms);
    load = new Load({
      tenant,
      pool: stack.pool,
      senders: shape.senders,
      subscribers: shape.subscribersPerInstance,
      ratePerSender: shape.ratePerSender,
      senderTargets: () => [api.url],
      subscriberTargets: () => [api.url.replace("http:", "ws:")],
    });
    await load.start();
    await sleep(shape.beforeMs);
    const env = { ...stack.env, BACKUP_DIR: dir, BACKUP_RETENTION_DAYS: "1", LOG_LEVEL: "INFO" };

    // A good backup, made to look expired (older than the retention): it is the last good one.
    const first = await runCli(["backup"], env);
    if (first.code !== 0) throw new Error(`the first backup failed: ${first.stdout}${first.stderr}`);
    const made = backups(dir).find((f) => f.endsWith(".sql.gz"))!;
    const sum = readFileSync(join(dir, `${made}.sha256`), "utf8").replace(made, OLD_NAME);
    renameSync(join(dir, made), join(dir, OLD_NAME));
    rmSync(join(dir, `${made}.sha256`));
    writeFileSync(join(dir, `${OLD_NAME}.sha256`), sum);
    const before = backups(dir);

    // Volume full.
    const t0 = Date.now();
    const filled = fill(dir);
    const full = await runCli(["backup"], env);
    const afterFull = backups(dir);
    const fullLeftovers = leftovers(dir);
    rmSync(join(dir, "filler"));

    // Volume read-only.
    await run_("mount", ["-o", "remount,ro", dir]);
    const readOnly = await runCli(["backup"], env);
    const afterReadOnly = backups(dir);
    await run_("mount", ["-o", "remount,rw", dir]);

    // Fixed: the next run succeeds and may now prune the expired backup.
    const fixedAt = Date.now();
    const fixed = await runCli(["backup"], env);
    const fixedMs = Date.now() - fixedAt;
    const afterFixed = backups(dir);
    const recoveryMs = fixed.code === 0 ? Date.now() - t0 : null;

    await sleep(shape.afterMs);
    const report = await load.finish();
    const fullError = errorLine(full);
    const roError = errorLine(readOnly);
    const kept = (list: string[]) => before.every((f) => list.includes(f));
    return result(
      {
        ...meta,
        load: describeLoad(shape, 1),
        fault: `8 MiB tmpfs filled (${Math.round(filled / 1024)} KiB), then remounted read-only`,
      },
      report,
      recoveryMs,
      {
        "exit when full": String(full.code),
        "exit when read-only": String(readOnly.code),
        "exit when fixed": String(fixed.code),
        "backup after fix ms": fixedMs,
        "backups kept": afterFixed.filter((f) => f.endsWith(".gz")).length,
      },
      [
        check(
          "full volume: backup exits non-zero",
          full.code !== 0 && full.code !== null,
          `exit ${full.code}`,
        ),
        check(
          "full volume: an error is logged",
          fullError !== "",
          fullError || `${full.stdout}${full.stderr}`.slice(-400),
        ),
        check(
          "full volume: earlier backups kept, no partial file",
          kept(afterFull) && fullLeftovers.length === 0,
          JSON.stringify({ afterFull, fullLeftovers }),
        ),
        check(
          "read-only volume: backup exits non-zero",
          readOnly.code !== 0 && readOnly.code !== null,
          `exit ${readOnly.code}`,
        ),
        check(
          "read-only volume: an error is logged",
          roError !== "",
          roError || `${readOnly.stdout}${readOnly.stderr}`.slice(-400),
        ),
        check("read-only volume: earlier backups kept", kept(afterReadOnly), JSON.stringify(afterReadOnly)),
        check(
          "the expired last good backup survived both failures",
          afterReadOnly.includes(OLD_NAME) && afterReadOnly.includes(`${OLD_NAME}.sha256`),
        ),
        check(
          "after the fix a backup succeeds (and only then retention prunes the expired one)",
          fixed.code === 0 &&
            afterFixed.some((f) => f.endsWith(".sql.gz") && f !== OLD_NAME) &&
            !afterFixed.includes(OLD_NAME),
          `exit ${fixed.code}: ${JSON.stringify(afterFixed)}`,
        ),
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stack?.dispose();
    if (mounted) await run_("umount", ["-l", dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
