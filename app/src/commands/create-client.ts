// `chatapi create-client --name N --email E [--admin] [--api-key-file PATH] [--id UUID] [--json]`:
// registers a client (the admin bootstrap). Idempotent by email: the second run changes nothing
// and says so. A key read from --api-key-file is registered (hashed) and never printed. --id
// fixes the new client's id (a deployment tool generated it and reports it).
import { readFileSync } from "node:fs";
import { z } from "zod";
import { loadConfig } from "../config/env.js";
import { createPool } from "../db/pool.js";
import { clientHasApiKey, createClient, findClientByEmail } from "../domain/clients.js";
import { ApiError } from "../domain/errors.js";
import { checkSuppliedApiKey } from "../domain/secrets.js";
import { UsageError } from "./usage.js";

export interface CreateClientArgs {
  name?: string | undefined;
  email?: string | undefined;
  admin: boolean;
  apiKeyFile?: string | undefined;
  id?: string | undefined;
  json: boolean;
}

export async function createClientCommand(args: CreateClientArgs): Promise<void> {
  const problems: string[] = [];
  if (!args.name?.trim()) problems.push("--name is required");
  if (!args.email || !z.email().safeParse(args.email).success)
    problems.push("--email must be an email address");
  let suppliedKey: string | undefined;
  if (args.apiKeyFile !== undefined) {
    try {
      suppliedKey = readFileSync(args.apiKeyFile, "utf8").replace(/\r?\n$/, "");
      const problem = checkSuppliedApiKey(suppliedKey);
      if (problem) problems.push(`--api-key-file ${args.apiKeyFile}: ${problem}`);
    } catch (error) {
      problems.push(
        `--api-key-file: cannot read ${args.apiKeyFile} (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  if (args.id !== undefined && !z.uuid().safeParse(args.id).success)
    problems.push(`--id must be a UUID (e.g. 3f0c9a52-4b1e-4d7a-9a63-0f6a8c1d2e4b), not "${args.id}"`);
  if (problems.length > 0) throw new UsageError(problems.join("\n"));

  const config = loadConfig();
  const pool = createPool({ databaseUrl: config.DATABASE_URL, poolSize: 1, maxOverflow: 0 });
  try {
    const existing = await findClientByEmail(pool, args.email!);
    if (existing) {
      const notes: string[] = [];
      if (args.admin && !existing.is_admin) notes.push("it is not an admin client (--admin changes nothing)");
      if (args.id !== undefined && args.id.toLowerCase() !== existing.id)
        notes.push(`its id is ${existing.id}, not ${args.id} (--id changes nothing)`);
      if (suppliedKey !== undefined && !(await clientHasApiKey(pool, existing.id, suppliedKey))) {
        notes.push("the key in --api-key-file is not one of its keys (it was not added)");
      }
      for (const note of notes) console.error(`warning: client ${existing.email} exists; ${note}`);
      report(
        args.json,
        { id: existing.id, created: false },
        `client ${existing.email} already exists (id ${existing.id}); nothing changed`,
      );
      return;
    }
    let created;
    try {
      created = await createClient(pool, {
        name: args.name!.trim(),
        email: args.email!,
        is_admin: args.admin,
        ...(suppliedKey !== undefined ? { apiKey: suppliedKey } : {}),
        ...(args.id !== undefined ? { id: args.id.toLowerCase() } : {}),
      });
    } catch (error) {
      // Another run created it between our lookup and insert: same answer as the lookup.
      if (error instanceof ApiError && error.code === "client_exists") {
        const winner = await findClientByEmail(pool, args.email!);
        if (winner)
          return report(
            args.json,
            { id: winner.id, created: false },
            `client ${winner.email} already exists (id ${winner.id}); nothing changed`,
          );
      }
      throw error;
    }
    const { client, apiKey } = created;
    if (suppliedKey !== undefined) {
      report(
        args.json,
        { id: client.id, created: true },
        `created client ${client.email} (id ${client.id}, admin: ${client.is_admin}) with the API key from ${args.apiKeyFile}`,
      );
    } else {
      report(
        args.json,
        { id: client.id, api_key: apiKey, created: true },
        `created client ${client.email} (id ${client.id}, admin: ${client.is_admin})\nAPI key (shown once, store it now): ${apiKey}`,
      );
    }
  } finally {
    await pool.end();
  }
}

function report(json: boolean, value: object, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}
