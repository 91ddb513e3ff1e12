// An exclusive lock held by a `flock` child process for as long as the test needs it: test runs
// that share one machine-wide thing (the local cluster's 2 CPUs) take turns. If the test
// process dies, the child's stdin closes, it exits and the lock is released.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export interface MachineLock {
  release: () => void;
}

export function acquireMachineLock(file: string, timeoutMs: number): Promise<MachineLock> {
  mkdirSync(dirname(file), { recursive: true });
  const child = spawn(
    "flock",
    ["--exclusive", "--timeout", String(Math.ceil(timeoutMs / 1000)), file, "-c", "echo locked; exec cat"],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
      if (output.includes("locked")) resolve({ release: () => child.stdin.end() });
    });
    child.stderr.on("data", (data: Buffer) => (output += data.toString()));
    child.once("error", (error) => reject(new Error(`flock could not run (util-linux): ${error.message}`)));
    child.once("exit", (code) => {
      if (!output.includes("locked"))
        reject(
          new Error(`another test run held ${file} for ${timeoutMs / 1000} s (flock exit ${code}) ${output}`),
        );
    });
  });
}
