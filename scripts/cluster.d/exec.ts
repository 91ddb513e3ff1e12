// Running commands with execa (the project's process library). execa 9 is ESM-only and these
// scripts are CommonJS (tsx on Node 20 cannot require it), so it is loaded with import() once.
import type { Options, Result } from "execa";

type Execa = typeof import("execa");
let loaded: Promise<Execa> | undefined;
export const execaModule = (): Promise<Execa> => (loaded ??= import("execa"));

/** Runs a command; throws (with its stderr) when it fails. */
export async function run(file: string, args: readonly string[], options: Options = {}): Promise<Result> {
  const { execa } = await execaModule();
  return execa(file, args, {
    ...(options.input === undefined ? { stdin: "ignore" as const } : {}),
    ...options,
  });
}

/** stdout of a command that must succeed. */
export async function output(file: string, args: readonly string[], options: Options = {}): Promise<string> {
  return String((await run(file, args, options)).stdout);
}

/** Whether a command exits 0 (output discarded; never throws). */
export async function succeeds(
  file: string,
  args: readonly string[],
  options: Options = {},
): Promise<boolean> {
  const result = await run(file, args, { reject: false, stdout: "ignore", stderr: "ignore", ...options });
  return result.exitCode === 0;
}

/** stdout of a command, or undefined when it fails (never throws). */
export async function tryOutput(
  file: string,
  args: readonly string[],
  options: Options = {},
): Promise<string | undefined> {
  const result = await run(file, args, { reject: false, stderr: "ignore", ...options });
  return result.exitCode === 0 ? String(result.stdout) : undefined;
}
