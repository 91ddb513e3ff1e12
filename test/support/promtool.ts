// promtool (Debian's prometheus package, 2.42) for the monitoring tests. Missing, it fails the
// test loudly, naming what installs it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";

export const PROMTOOL = "/usr/bin/promtool";

export interface PromtoolResult {
  code: number;
  output: string;
}

export function promtool(args: string[], cwd?: string): Promise<PromtoolResult> {
  if (!existsSync(PROMTOOL)) {
    throw new Error(
      `${PROMTOOL} is missing: bash scripts/setup installs Debian's prometheus package (promtool)`,
    );
  }
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
