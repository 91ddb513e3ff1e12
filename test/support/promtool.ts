// promtool (Debian's prometheus package, 2.42) and amtool (prometheus-alertmanager, 0.25) for the
// monitoring tests. Missing, either fails the test loudly, naming what installs it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";

export const PROMTOOL = "/usr/bin/promtool";
export const AMTOOL = "/usr/bin/amtool";

export interface PromtoolResult {
  code: number;
  output: string;
}

function debianTool(binary: string, pkg: string, args: string[], cwd?: string): Promise<PromtoolResult> {
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: bash scripts/setup installs Debian's ${pkg} package`);
  }
  return new Promise((resolve) => {
    execFile(binary, args, { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

export const promtool = (args: string[], cwd?: string) =>
  debianTool(PROMTOOL, "prometheus (promtool)", args, cwd);

export const amtool = (args: string[], cwd?: string) =>
  debianTool(AMTOOL, "prometheus-alertmanager (amtool)", args, cwd);
