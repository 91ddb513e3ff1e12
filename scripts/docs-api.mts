// Writes docs/API.md from the app's OpenAPI document (npm run docs:api); app/test/api-markdown.test.ts
// fails when the file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { documentedApiMarkdown } from "../app/src/http/api-markdown.js";

const file = new URL("../docs/API.md", import.meta.url);
const text = documentedApiMarkdown();
let current = "";
try {
  current = readFileSync(file, "utf8");
} catch {
  // not written yet
}
if (current === text) console.log("docs/API.md: already up to date");
else {
  writeFileSync(file, text);
  console.log("docs/API.md: updated");
}
