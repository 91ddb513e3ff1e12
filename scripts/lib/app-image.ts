// Builds the app image from app/Dockerfile once per distinct input: the label
// chatapi.images.input-hash holds a hash of the build context (exactly the files .dockerignore
// lets through, read with Docker's own matching rules), the Dockerfile, the build arguments and
// the IDs of the images they name. An image whose label matches is used as it is (seconds).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import dockerignore from "@balena/dockerignore";
import { run } from "../../toolbox/exec";

export interface AppImageSpec {
  /** Tag to give the image. */
  ref: string;
  /** Absolute path of the build context (the repository root). */
  context: string;
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  args: Record<string, string>;
}

export const INPUT_HASH_LABEL = "chatapi.images.input-hash";

/** Could a path under `dir` match this (negated) pattern? Decides whether to walk into `dir`. */
function mayMatchUnder(pattern: string, dir: string): boolean {
  const want = pattern.replace(/^\/+/, "").split("/");
  const have = dir.split("/");
  for (let i = 0; i < have.length; i++) {
    const part = want[i];
    if (part === undefined) return true; // the pattern names `dir` itself or a parent: everything under it
    if (part === "**") return true;
    const regex = new RegExp(
      `^${part
        .replace(/[.+^${}()|\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]")}$`,
    );
    if (!regex.test(have[i]!)) return false;
  }
  return true;
}

/** The files `docker build` sends for this context, sorted, relative to it. */
export function contextFiles(context: string): string[] {
  let rules: string[] = [];
  try {
    rules = readFileSync(join(context, ".dockerignore"), "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
  } catch {
    // no .dockerignore: everything is sent
  }
  const ig = dockerignore().add(rules);
  const negations = rules.filter((r) => r.startsWith("!")).map((r) => r.slice(1));
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(context, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!ig.ignores(path) || negations.some((n) => mayMatchUnder(n, path))) walk(path);
      } else if (!ig.ignores(path)) {
        out.push(path);
      }
    }
  };
  walk("");
  return out.sort();
}

async function imageId(ref: string): Promise<string | undefined> {
  const result = await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

async function imageLabel(ref: string, label: string): Promise<string | undefined> {
  const result = await run(
    "docker",
    ["image", "inspect", "--format", `{{ index .Config.Labels "${label}" }}`, ref],
    { reject: false },
  );
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

export async function appImageHash(spec: AppImageSpec): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`recipe 1\ndockerfile ${readFileSync(spec.dockerfile, "utf8")}\n`);
  for (const [name, value] of Object.entries(spec.args).sort()) {
    const id = await imageId(value);
    if (!id)
      throw new Error(`build argument ${name}=${value}: no such image on this engine (run scripts/images)`);
    hash.update(`arg ${name}=${value} ${id}\n`);
  }
  for (const file of contextFiles(spec.context)) {
    const path = join(spec.context, file);
    const executable = (statSync(path).mode & 0o111) !== 0;
    hash.update(`file ${file} ${executable ? "x" : "-"} `);
    hash.update(readFileSync(path));
    hash.update("\n");
  }
  return hash.digest("hex").slice(0, 32);
}

export interface AppImageResult {
  ref: string;
  built: boolean;
  seconds: number;
  log?: string;
}

/** Builds the image unless one with the same inputs is already tagged `ref`. */
export async function ensureAppImage(
  spec: AppImageSpec,
  options: { force?: boolean; logFile?: string; onProgress?: (line: string) => void } = {},
): Promise<AppImageResult> {
  const started = Date.now();
  const hash = await appImageHash(spec);
  if (!options.force && (await imageLabel(spec.ref, INPUT_HASH_LABEL)) === hash) {
    return { ref: spec.ref, built: false, seconds: (Date.now() - started) / 1000 };
  }
  const args = ["build", "-f", spec.dockerfile, "-t", spec.ref, "--label", `${INPUT_HASH_LABEL}=${hash}`];
  for (const [name, value] of Object.entries(spec.args)) args.push("--build-arg", `${name}=${value}`);
  args.push(spec.context);
  const result = await run("docker", args, {
    env: { DOCKER_BUILDKIT: "0" }, // the engine here has no BuildKit; the classic builder is enough
    reject: false,
    onLine: (line) => {
      if (/^Step \d+\/\d+/.test(line)) options.onProgress?.(line.trim());
    },
  });
  if (result.exitCode !== 0) {
    const tail = result.all.split("\n").slice(-30).join("\n");
    throw new Error(`building ${spec.ref} from ${relative(spec.context, spec.dockerfile)} failed:\n${tail}`);
  }
  return { ref: spec.ref, built: true, seconds: (Date.now() - started) / 1000, log: result.all };
}
