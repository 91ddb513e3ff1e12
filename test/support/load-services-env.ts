// Loads the test-service addresses and credentials that scripts/setup wrote outside the
// checkout, so tests connect to the same services the setup started.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "./paths.js";

for (const file of ["services.env", "services.urls.env", "tools.env"]) {
  const path = join(cacheDir, file);
  if (!existsSync(path)) continue; // the services check names what is missing
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
  }
}
