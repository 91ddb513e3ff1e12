/** A wrong command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage: chatapi <command> [options]

Commands:
  serve [--migrate]       API + WebSocket server on PORT (default 8000); --migrate first applies migrations
  migrate [--json]        bring the database schema up to date (safe to repeat, safe in parallel)
  create-client --name NAME --email EMAIL [--admin] [--api-key-file PATH] [--id UUID] [--json]
                          register a client; idempotent by email. Without --api-key-file a key is
                          generated and shown once; with it, the file's key is registered (never printed)
  worker                  job consumer and outbox relay (e-mail notifications); health/metrics on METRICS_PORT
  backup [--schedule "<cron>" | --daemon]
                          verified pg_dump backup into BACKUP_DIR (+ S3), retention applied; with a
                          schedule it keeps running (--daemon uses BACKUP_SCHEDULE), metrics on
                          METRICS_PORT; a single run pushes them to BACKUP_PUSHGATEWAY_URL if set
  restore <file | s3://bucket/key> [--force] [--verify-only] [--allow-missing-checksum]
                          restore a verified backup (its .sha256 is required unless allowed) into an
                          empty database (--force: replace it), then migrate; psql meta-commands refused
  --version               print the version

Configuration comes from the environment (see app/README.md); every secret also accepts <NAME>_FILE.`;

/** A command that failed in a way it has its own exit code for (see README: exit codes). */
export class CommandFailure extends Error {
  override name = "CommandFailure";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
