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
  worker                  RabbitMQ consumers (email notifications)
  backup, restore <file>  database backups
  --version               print the version

Configuration comes from the environment (see app/README.md); every secret also accepts <NAME>_FILE.`;
