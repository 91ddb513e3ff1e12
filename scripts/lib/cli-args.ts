// Command lines of the TypeScript scripts: node:util's parseArgs, whose mistakes (an unknown
// option, a missing value, a stray argument) become one line naming the script, then its usage,
// exit code 2: never a TypeError with a stack trace.
import { type ParseArgsConfig, parseArgs } from "node:util";

/** parseArgs's own errors carry codes like ERR_PARSE_ARGS_UNKNOWN_OPTION. */
const isParseError = (error: unknown): error is Error & { code: string } =>
  error instanceof Error && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS_");

/** Node's message up to its first sentence ("Unknown option '--image'"), first letter lower case. */
export function parseErrorLine(message: string): string {
  const first = message.split(/\. (?=To specify|This command)/)[0]!.replace(/\.$/, "");
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** Exits 2 with "<script>: <what was wrong>" and the usage on stderr. */
export function usageError(script: string, problem: string, usage: string): never {
  console.error(`${script}: ${problem}\n${usage.trimEnd()}`);
  process.exit(2);
}

/** parseArgs(config), or exit 2 with a one-line error and the usage. */
export function parseCommandLine<T extends ParseArgsConfig>(
  script: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    if (isParseError(error)) usageError(script, parseErrorLine(error.message), usage);
    throw error;
  }
}
