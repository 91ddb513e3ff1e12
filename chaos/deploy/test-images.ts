// The app images a deploy measurement swaps between, derived from one app image by a layer
// each (seconds to build, nothing pulled):
//   next        + an expand migration (a nullable column, a new table and its index): the new
//                 release whose schema the previous one must keep working on
//   crashing    `chatapi serve` exits at once (a bad build): a crash loop behind the gate
//   badMigration + a migration that fails: the release's migration job exits non-zero
import { run } from "../../toolbox/exec";

export interface TestImages {
  base: string;
  next: string;
  crashing: string;
  badMigration: string;
}

/** An expand step: only additions, which the previous release's code never notices. */
export const EXPAND_MIGRATION = {
  name: "1700000000002_deploy-test-expand.sql",
  sql: [
    "-- Up Migration",
    "ALTER TABLE messages ADD COLUMN IF NOT EXISTS edited_at timestamptz;",
    "CREATE TABLE IF NOT EXISTS message_reactions (",
    "  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,",
    "  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,",
    "  emoji text NOT NULL,",
    "  PRIMARY KEY (message_id, user_id, emoji)",
    ");",
    "CREATE INDEX IF NOT EXISTS message_reactions_user_id_idx ON message_reactions (user_id);",
    "-- Down Migration",
    "DROP TABLE message_reactions;",
    "ALTER TABLE messages DROP COLUMN edited_at;",
  ],
};

const BROKEN_MIGRATION = {
  name: "1700000000003_deploy-test-broken.sql",
  sql: ["-- Up Migration", "ALTER TABLE no_such_table ADD COLUMN x integer;", "-- Down Migration"],
};

const CRASHING_CHATAPI = [
  "#!/bin/sh",
  'if [ "$1" = serve ]; then echo "chatapi serve: cannot start: this build is broken on purpose (deploy test)" >&2; exit 70; fi',
  'exec node /app/bin/chatapi.js "$@"',
];

/** A shell-quoted printf of lines into a file (the Dockerfile's RUN). */
const writeFile = (path: string, lines: string[]) =>
  `printf '%s\\n' ${lines.map((l) => `'${l.replace(/'/g, "'\\''")}'`).join(" ")} > ${path}`;

async function derive(base: string, tag: string, purpose: string, run_: string): Promise<string> {
  const dockerfile = [
    `FROM ${base}`,
    "USER 0:0",
    `RUN ${run_}`,
    `LABEL chatapi.deploy-test="${purpose}"`,
    "USER 10001:10001",
  ].join("\n");
  await run("docker", ["build", "-q", "-t", tag, "-"], { input: dockerfile });
  return tag;
}

/** Builds the derived images as <repository>:<tag prefix>-<name>. */
export async function buildTestImages(base: string, prefix: string): Promise<TestImages> {
  const repository = base.slice(0, base.lastIndexOf(":"));
  const tag = (name: string) => `${repository}:${prefix}-${name}`;
  const migrations = "/app/migrations";
  const next = await derive(
    base,
    tag("next"),
    "next: an expand migration",
    writeFile(`${migrations}/${EXPAND_MIGRATION.name}`, EXPAND_MIGRATION.sql),
  );
  return {
    base,
    next,
    crashing: await derive(
      base,
      tag("crashing"),
      "crashing: serve exits",
      `rm /usr/local/bin/chatapi && ${writeFile("/usr/local/bin/chatapi", CRASHING_CHATAPI)} && chmod 0755 /usr/local/bin/chatapi`,
    ),
    // On top of next: the schema already has next's migration (node-pg-migrate refuses a list
    // that lacks an applied one, which would fail before the broken step runs).
    badMigration: await derive(
      next,
      tag("bad-migration"),
      "bad migration",
      writeFile(`${migrations}/${BROKEN_MIGRATION.name}`, BROKEN_MIGRATION.sql),
    ),
  };
}

/** Removes the run's own tags (the base too: it was built under the run's tag). */
export async function removeTestImages(images: TestImages): Promise<void> {
  const tags = [images.next, images.crashing, images.badMigration, images.base];
  await run("docker", ["rmi", ...tags], { reject: false });
}
