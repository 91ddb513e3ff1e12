#!/usr/bin/env node
// Entry point of the `chatapi` command: one image, one binary, several processes.
import { parseArgs } from "node:util";
import { ConfigError } from "./config/env.js";
import { CommandFailure, UsageError, USAGE } from "./commands/usage.js";
import { VERSION } from "./version.js";

type Command = (argv: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  serve: async (argv) => {
    const { values } = parseArgs({ args: argv, options: { migrate: { type: "boolean", default: false } } });
    const { serve } = await import("./commands/serve.js");
    await serve({ migrate: values.migrate });
  },
  migrate: async (argv) => {
    const { values } = parseArgs({ args: argv, options: { json: { type: "boolean", default: false } } });
    const { migrate } = await import("./commands/migrate.js");
    await migrate({ json: values.json });
  },
  "create-client": async (argv) => {
    const { values } = parseArgs({
      args: argv,
      options: {
        name: { type: "string" },
        email: { type: "string" },
        admin: { type: "boolean", default: false },
        "api-key-file": { type: "string" },
        id: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    const { createClientCommand } = await import("./commands/create-client.js");
    await createClientCommand({
      name: values.name,
      email: values.email,
      admin: values.admin,
      apiKeyFile: values["api-key-file"],
      id: values.id,
      json: values.json,
    });
  },
  worker: async (argv) => {
    parseArgs({ args: argv, options: {} });
    const { worker } = await import("./commands/worker.js");
    await worker();
  },
  backup: async (argv) => {
    const { values } = parseArgs({
      args: argv,
      options: { schedule: { type: "string" }, daemon: { type: "boolean", default: false } },
    });
    const { backupCommand } = await import("./commands/backup.js");
    await backupCommand({ schedule: values.schedule, daemon: values.daemon });
  },
  restore: async (argv) => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        force: { type: "boolean", default: false },
        "verify-only": { type: "boolean", default: false },
        "allow-missing-checksum": { type: "boolean", default: false },
      },
    });
    if (positionals.length > 1) throw new UsageError(`restore takes one backup, got ${positionals.length}`);
    const { restoreCommand } = await import("./commands/restore.js");
    await restoreCommand({
      source: positionals[0],
      force: values.force,
      verifyOnly: values["verify-only"],
      allowMissingChecksum: values["allow-missing-checksum"],
    });
  },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "version" || command === "-v") {
    console.log(VERSION);
    return 0;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`chatapi: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  await run(rest);
  return -1; // keep running (serve) or let the event loop end
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CommandFailure) {
      console.error(`chatapi: ${error.message}`);
      process.exitCode = error.exitCode;
    } else if (error instanceof ConfigError) {
      console.error(`chatapi: ${error.message}`);
      process.exitCode = 78; // EX_CONFIG
    } else if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      console.error(`chatapi: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`chatapi: ${(error as Error).message ?? String(error)}`);
      process.exitCode = 1;
    }
  },
);
