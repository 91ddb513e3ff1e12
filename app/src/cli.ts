#!/usr/bin/env node
// Entry point of the `chatapi` command: one image, one binary, several processes.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const [command] = process.argv.slice(2);
if (command === "--version" || command === "version") {
  console.log(pkg.version);
} else {
  console.error(`chatapi ${pkg.version}: unknown command '${command ?? ""}'`);
  process.exit(2);
}
