// Running commands with execa, the project's process library, for scripts, tests, bench and chaos.
// execa 9 is ESM-only and the root is CommonJS (tsx on Node 20 cannot require it: its dependency
// unicorn-magic exports no "require" entry), so it is loaded with import() once.
import type { Options } from "execa";

type Execa = typeof import("execa");
let loaded: Promise<Execa> | undefined;
export const execaModule = (): Promise<Execa> => (loaded ??= import("execa"));

export interface RunOptions extends Options {
  /** Called with each output line (stdout and stderr) as it arrives. */
  onLine?: (line: string) => void;
}

/** A finished command's output as text (`all`: stdout and stderr interleaved as they arrived). */
export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  all: string;
}

const text = (value: unknown): string =>
  value === undefined ? "" : Array.isArray(value) ? value.join("\n") : String(value);

/**
 * Runs a command (stdin closed unless `input` is given); throws execa's error (the command, its
 * exit code and output) when it fails, unless `reject: false`.
 */
export async function run(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const { execa } = await execaModule();
  const { onLine, ...rest } = options;
  const echo = onLine
    ? function* (line: unknown) {
        onLine(String(line));
        yield line;
      }
    : undefined;
  const result = await execa(file, args, {
    all: true,
    ...(rest.input === undefined && rest.inputFile === undefined ? { stdin: "ignore" as const } : {}),
    ...(echo ? { stdout: echo, stderr: echo } : {}),
    ...rest,
  });
  return {
    command: result.command,
    exitCode: result.exitCode ?? (result.signal ? 128 : 1),
    stdout: text(result.stdout),
    stderr: text(result.stderr),
    all: text(result.all),
  };
}

/** stdout of a command that must succeed. */
export async function output(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return (await run(file, args, options)).stdout;
}

/** Whether a command exits 0 (output discarded; never throws). */
export async function succeeds(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<boolean> {
  const result = await run(file, args, {
    reject: false,
    all: false,
    stdout: "ignore",
    stderr: "ignore",
    ...options,
  });
  return result.exitCode === 0;
}

/** stdout of a command, or undefined when it fails (never throws). */
export async function tryOutput(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string | undefined> {
  const result = await run(file, args, { reject: false, all: false, stderr: "ignore", ...options });
  return result.exitCode === 0 ? result.stdout : undefined;
}

/** docker <args>, trimmed stdout. */
export async function docker(...args: string[]): Promise<string> {
  return (await output("docker", args)).trim();
}
