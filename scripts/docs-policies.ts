// Regenerates the policy pack's rule table in README.md from the rules.
//   npm run docs:policies
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withRuleTable } from "../policies/offline/docs";

const path = join(__dirname, "..", "README.md");
const before = readFileSync(path, "utf8");
const after = withRuleTable(before);
writeFileSync(path, after);
console.log(before === after ? "README.md: rule table already up to date" : "README.md: rule table updated");
