// Serialises scripts/cluster runs: a `flock` child holds the lock for as long as this process
// lives (its stdin closes when we exit, and the lock goes with it). The daemons `up` starts never
// hold it: they are not children of that flock.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ClusterConfig } from "./config";
import { die, say } from "./log";

/** The build cache's lock and the running cluster's lock (the same files as before: old and new runs exclude each other). */
export const lockFile = (config: ClusterConfig, which: "build" | "run") =>
  join(config.cache, which === "build" ? ".cluster-build.lock" : ".cluster-run.lock");

const held = new Set<string>();

export async function takeLock(file: string): Promise<void> {
  if (held.has(file)) return;
  mkdirSync(dirname(file), { recursive: true });
  const child = spawn("flock", [file, "-c", "echo locked; exec cat"], { stdio: ["pipe", "pipe", "inherit"] });
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  const waiting = setTimeout(() => say(`waiting for another scripts/cluster run (lock ${file}) ...`), 300);
  await new Promise<void>((resolve, reject) => {
    child.once("error", (error) => reject(new Error(`flock could not run (util-linux): ${error.message}`)));
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`flock ${file} exited ${code}`)));
  }).catch((error: Error) => die(error.message));
  clearTimeout(waiting);
  held.add(file);
}
