// Running pg_dump, pg_restore and psql. The connection comes from DATABASE_URL as libpq
// environment variables (PGHOST, PGPASSWORD, ...): a password on the command line would be
// visible to every user of the host in the process list. Children get a minimal environment.
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";

/** libpq variables for DATABASE_URL (postgres[ql]://user:password@host:port/db?sslmode=...). */
export function libpqEnv(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const env: Record<string, string> = { PGAPPNAME: "chatapi-backup", PGCONNECT_TIMEOUT: "10" };
  if (url.hostname) env.PGHOST = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, "$1"));
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database) env.PGDATABASE = database;
  const params = url.searchParams;
  const map: Record<string, string> = {
    host: "PGHOST",
    port: "PGPORT",
    sslmode: "PGSSLMODE",
    sslrootcert: "PGSSLROOTCERT",
    sslcert: "PGSSLCERT",
    sslkey: "PGSSLKEY",
    options: "PGOPTIONS",
  };
  for (const [param, variable] of Object.entries(map)) {
    const value = params.get(param);
    if (value) env[variable] = value;
  }
  // node-postgres' ssl=true means "use TLS"; libpq says it with sslmode.
  if (!env.PGSSLMODE && ["true", "1"].includes(params.get("ssl") ?? "")) env.PGSSLMODE = "require";
  return env;
}

function childEnv(pgEnv: Record<string, string>): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "TZ", "LANG", "LC_ALL"];
  const env: NodeJS.ProcessEnv = {};
  for (const name of keep) if (process.env[name]) env[name] = process.env[name];
  return { ...env, ...pgEnv };
}

export interface ToolRun {
  child: ChildProcess;
  /** Resolves when the tool exits 0; rejects with its stderr otherwise. */
  done: Promise<void>;
}

export interface ToolOptions {
  pgEnv: Record<string, string>;
  stdin?: Readable;
  stdout?: Writable | "ignore";
  signal?: AbortSignal;
}

/** Starts a PostgreSQL client tool; stdout is a pipe unless redirected. */
export function runTool(tool: string, args: string[], options: ToolOptions): ToolRun {
  const child = spawn(tool, args, {
    env: childEnv(options.pgEnv),
    stdio: [options.stdin ? "pipe" : "ignore", options.stdout === "ignore" ? "ignore" : "pipe", "pipe"],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString("utf8");
  });
  if (options.stdin) {
    child.stdin!.on("error", () => undefined); // the tool exiting early is reported by `done`
    options.stdin.pipe(child.stdin!);
  }
  if (options.stdout && options.stdout !== "ignore") child.stdout!.pipe(options.stdout);
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error(
              `${tool} is not installed (the chatapi image ships it; elsewhere install postgresql-client)`,
            )
          : error,
      ),
    );
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else {
        const detail = stderr.trim().split("\n").slice(-5).join(" | ");
        reject(new Error(`${tool} ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${detail}`));
      }
    });
  });
  return { child, done };
}

/** The major version of an installed tool (`pg_dump (PostgreSQL) 15.18` → 15). */
export async function toolMajorVersion(tool: string): Promise<number> {
  let out = "";
  const run = runTool(tool, ["--version"], { pgEnv: {} });
  run.child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  await run.done;
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(out);
  if (!match) throw new Error(`cannot read the version of ${tool} from "${out.trim()}"`);
  return Number(match[1]);
}
