// Keeps in node_modules only what the app needs at run time, then deletes the rest.
//
// Why: the repository is one npm workspace with one package-lock.json. `npm ci --workspace app
// --omit=dev` installs the app's closure, but "dev" is decided for the whole workspace, so a
// package the root toolkit uses at run time (ajv, @types/node via Pulumi) counts as production
// even when the app only needs it for tests. This walks the app's real production graph
// (dependencies, optionalDependencies and the peers they resolve to) with Node's resolution
// rules and removes every other installed package.
//
// Usage: node prune-to-closure.mjs <root dir holding node_modules> <app package.json>
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { dirname, join, sep } from "node:path";

const [root, appManifest] = process.argv.slice(2);
if (!root || !appManifest) {
  console.error("usage: prune-to-closure.mjs <root> <app/package.json>");
  process.exit(2);
}

const manifest = (dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));

/** Node's lookup: <dir>/node_modules/<name>, then each parent's, up to the root. */
function resolvePackage(name, fromDir) {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dir === root || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

const keep = new Set();
const queue = [];
const app = JSON.parse(readFileSync(appManifest, "utf8"));
const appDir = realpathSync(dirname(appManifest));
for (const name of Object.keys({ ...app.dependencies, ...app.optionalDependencies })) {
  const found = resolvePackage(name, appDir);
  if (!found) throw new Error(`${name} (a dependency of the app) is not installed`);
  queue.push(found);
}
while (queue.length > 0) {
  const dir = queue.pop();
  if (keep.has(dir)) continue;
  keep.add(dir);
  const pkg = manifest(dir);
  const required = Object.keys({ ...pkg.dependencies });
  const optional = Object.keys({ ...pkg.optionalDependencies, ...pkg.peerDependencies });
  for (const name of required) {
    const found = resolvePackage(name, dir);
    if (!found) throw new Error(`${name} (needed by ${pkg.name}) is not installed`);
    queue.push(found);
  }
  for (const name of optional) {
    const found = resolvePackage(name, dir);
    if (found) queue.push(found);
  }
}

/** Every installed package directory (scoped and nested ones too). */
function installed(modulesDir) {
  if (!existsSync(modulesDir)) return [];
  return readdirSync(modulesDir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".")) return [];
    const path = join(modulesDir, entry.name);
    if (entry.name.startsWith("@")) return installed(path);
    if (entry.isSymbolicLink()) return [path]; // a workspace link: not descended into
    return [path, ...installed(join(path, "node_modules"))];
  });
}

let removed = 0;
for (const dir of [...installed(join(root, "node_modules")), ...installed(join(appDir, "node_modules"))]) {
  if (lstatSync(dir).isSymbolicLink()) {
    rmSync(dir); // workspace links (the app itself): the image holds the app directly
    removed++;
    continue;
  }
  let real;
  try {
    real = realpathSync(dir);
  } catch {
    real = undefined; // a dangling link (the workspace itself): remove it
  }
  if (real && keep.has(real)) continue;
  if (real && [...keep].some((k) => k.startsWith(real + sep))) continue; // holds kept nested packages
  rmSync(dir, { recursive: true, force: true });
  removed++;
}
rmSync(join(root, "node_modules", ".bin"), { recursive: true, force: true });
console.log(`kept ${keep.size} packages, removed ${removed}`);
