// `chatapi migrate`: brings the schema up to date; safe to run twice or from several places at once.
import { loadConfig } from "../config/env.js";
import { migrateUp } from "../db/migrate.js";

export async function migrate(args: { json: boolean }): Promise<void> {
  const config = loadConfig();
  const applied = await migrateUp(config.DATABASE_URL, { info: (m) => console.error(m) });
  if (args.json) console.log(JSON.stringify({ applied }));
  else if (applied.length === 0) console.log("schema is up to date (no migration applied)");
  else console.log(`applied ${applied.length} migration(s): ${applied.join(", ")}`);
}
