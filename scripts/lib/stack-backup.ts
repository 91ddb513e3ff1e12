// `scripts/local backup` and `scripts/local restore FILE|s3://...` on a running Docker stack.
// Both run the app's own commands (`chatapi backup` / `chatapi restore`) in the stack's backup
// container: its volume, its S3 settings and secrets, its user, its database URL. A backup made
// this way is recorded where the scheduler's are (the container's health check and metrics). A
// restore stops the processes that write (API instances and workers) first and starts them
// again after, so nothing is written while the database is replaced.
import { createReadStream, existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { spawn } from "node:child_process";
import { reloadNginx } from "./nginx-reload";
import { docker, run } from "../../toolbox/exec";
import { type ContainerState, stackContainers, waitForStack } from "./stack-health";

/** Where the backups volume (or host folder) is mounted in the backup container. */
const BACKUP_DIR = "/backups";

export interface BackupResult {
  file: string;
  bytes: number;
  sha256?: string;
  uploaded?: string;
  durationMs: number;
}

export class BackupCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "BackupCommandError";
  }
}

async function backupContainer(stack: string): Promise<ContainerState> {
  const containers = await stackContainers(stack);
  if (containers.length === 0) throw new Error(`stack ${stack} has no containers (scripts/local up first)`);
  const backup = containers.find((c) => c.role === "backup");
  if (!backup) throw new Error(`stack ${stack} has no backup container (chatapi:backup.enabled is false)`);
  if (backup.status !== "running")
    throw new Error(`${backup.name} is ${backup.status}: start the stack (scripts/local up) first`);
  return backup;
}

/** The app's JSON log lines of a command's output, parsed (other lines are left out). */
function logRecords(output: string): Record<string, unknown>[] {
  return output.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** pino's bookkeeping fields: not worth a line on the terminal. */
const NOISE = new Set(["level", "time", "pid", "hostname", "msg", "instance", "environment"]);

/** A short readable line for one of the app's log records. */
function describe(record: Record<string, unknown>): string {
  const fields = Object.entries(record)
    .filter(([k]) => !NOISE.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${String(record.msg)}${fields ? ` (${fields})` : ""}`;
}

/** Runs `chatapi <args>` in the backup container; each log record reported as it arrives. */
async function chatapiInBackup(
  container: string,
  args: string[],
  report: (line: string) => void,
): Promise<{ exitCode: number; records: Record<string, unknown>[] }> {
  const result = await run("docker", ["exec", container, "chatapi", ...args], {
    reject: false,
    onLine: (line) => {
      const [record] = logRecords(line);
      if (record) report(describe(record));
      else if (line.trim()) report(line.trim());
    },
  });
  return { exitCode: result.exitCode, records: logRecords(result.stdout + "\n" + result.stderr) };
}

/** One backup now, into the stack's backups volume (and its S3 bucket when configured). */
export async function backupStack(stack: string, report: (line: string) => void): Promise<BackupResult> {
  const container = await backupContainer(stack);
  const started = Date.now();
  const { exitCode, records } = await chatapiInBackup(container.name, ["backup"], report);
  const done = records.find(
    (r) => r.msg === "backup complete" || r.msg === "backup written and verified, with problems",
  );
  if (exitCode !== 0 || !done)
    throw new BackupCommandError(
      `chatapi backup in ${container.name} exited ${exitCode}${exitCode === 75 ? " (another backup or restore is running)" : ""}`,
      exitCode || 1,
    );
  return {
    file: String(done.file),
    bytes: Number(done.bytes),
    ...(typeof done.sha256 === "string" ? { sha256: done.sha256 } : {}),
    ...(typeof done.uploaded === "string" ? { uploaded: done.uploaded } : {}),
    durationMs: Date.now() - started,
  };
}

/** Copies a file from this machine into the backup container's volume, owned by its user. */
async function copyIn(container: string, from: string, to: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      "docker",
      ["exec", "-i", container, "sh", "-c", 'umask 077 && cat > "$1"', "sh", to],
      {
        stdio: ["pipe", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`copying ${from} into ${container}:${to} failed: ${stderr.trim()}`)),
    );
    createReadStream(from).on("error", reject).pipe(child.stdin);
  });
}

export interface RestoreOptions {
  /** A backup file on this machine, a file name in the stack's backups volume, or s3://bucket/key. */
  source: string;
  force: boolean;
  timeoutMs: number;
  report: (line: string) => void;
}

export interface RestoreResult {
  source: string;
  durationMs: number;
  /** The processes stopped for the restore and started again. */
  restarted: string[];
}

/** Where the backup container finds the source: S3 as it is, a local file copied into its volume. */
async function stageSource(
  container: string,
  source: string,
  report: (line: string) => void,
): Promise<string> {
  if (source.startsWith("s3://")) return source;
  if (existsSync(source) && statSync(source).isFile()) {
    const name = basename(source);
    const target = `${BACKUP_DIR}/${name}`;
    report(`copying ${source} into ${container}:${target}`);
    await copyIn(container, source, target);
    if (existsSync(`${source}.sha256`)) await copyIn(container, `${source}.sha256`, `${target}.sha256`);
    return target;
  }
  if (source.includes("/"))
    throw new Error(
      `${source}: no such file on this machine (or give the name of a backup in the stack's volume)`,
    );
  const listed = await run("docker", ["exec", container, "ls", BACKUP_DIR], { reject: false });
  if (!listed.stdout.split("\n").includes(source))
    throw new Error(
      `${source} is neither a file on this machine nor a backup in ${container}:${BACKUP_DIR} (there: ${
        listed.stdout
          .split("\n")
          .filter((n) => n.startsWith("chatapi_backup_") && !n.endsWith(".sha256"))
          .join(", ") || "none"
      })`,
    );
  return `${BACKUP_DIR}/${source}`;
}

/**
 * Restores a backup into the stack's database: the writers (API, workers) are stopped, the
 * backup container runs `chatapi restore` (checksum, archive check, one transaction, migrations),
 * and the writers are started again and waited for, healthy; nginx is then reloaded gracefully (it
 * resolves its upstream instances when it loads its configuration, and a started container may
 * have a new address). A failed restore leaves the database as it was and still starts the
 * writers again.
 */
export async function restoreStack(stack: string, options: RestoreOptions): Promise<RestoreResult> {
  const { report } = options;
  const container = await backupContainer(stack);
  const staged = await stageSource(container.name, options.source, report);
  const started = Date.now();
  const writers = (await stackContainers(stack)).filter(
    (c) => (c.role === "api" || c.role === "worker") && c.status === "running",
  );
  if (writers.length > 0) {
    report(`stopping the writers: ${writers.map((c) => c.name).join(", ")}`);
    await docker("stop", ...writers.map((c) => c.name));
  }
  let exitCode = 1;
  try {
    ({ exitCode } = await chatapiInBackup(
      container.name,
      ["restore", staged, ...(options.force ? ["--force"] : [])],
      report,
    ));
  } finally {
    if (writers.length > 0) {
      report(`starting the writers again`);
      await docker("start", ...writers.map((c) => c.name));
      await waitForStack(stack, {
        timeoutMs: options.timeoutMs,
        expected: writers.map((c) => c.name),
        report: (line) => report(`  ${line}`),
      });
      const nginx = (await stackContainers(stack)).find((c) => c.role === "nginx" && c.status === "running");
      if (nginx) await reloadNginx(nginx.name);
    }
  }
  if (exitCode !== 0) {
    const why =
      exitCode === 4
        ? "the database is not empty (pass --force to replace it)"
        : exitCode === 5
          ? "the backup is corrupt or its checksum does not match"
          : exitCode === 75
            ? "another backup or restore is running"
            : "see the lines above";
    throw new BackupCommandError(
      `chatapi restore exited ${exitCode}: ${why}; the database was not changed`,
      exitCode,
    );
  }
  return { source: options.source, durationMs: Date.now() - started, restarted: writers.map((c) => c.name) };
}
