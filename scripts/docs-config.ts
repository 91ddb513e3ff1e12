// Regenerates the "Stack configuration" table in README.md from the schema and defaults.
//   npm run docs:config
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withConfigTable } from "../components/config/docs";

const path = join(__dirname, "..", "README.md");
const before = readFileSync(path, "utf8");
const after = withConfigTable(before);
writeFileSync(path, after);
console.log(
  before === after ? "README.md: config table already up to date" : "README.md: config table updated",
);
